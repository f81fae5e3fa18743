"""`tuoke demo` loads the demo company once: on a built demo it adds nothing and prints the
logins. (The package's fixture builds the demo through the command's own builders.)"""

from io import StringIO

import pytest
from django.core.management import call_command

from tests.demo.conftest import row_counts
from tuoke.org.demo import DEMO_PASSWORD, PEOPLE, UNITS
from tuoke.org.models import OrgUnit, Role, User

# One build of the demo for the package, on one worker (see conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("demo")]


def test_the_whole_demo_is_built_once(whole_demo):
    assert set(whole_demo.made) == {"org", "customers", "leads", "activities", "sales", "contracts"}
    assert whole_demo.again_counts == whole_demo.counts
    assert User.objects.count() == len(PEOPLE)
    assert OrgUnit.objects.count() == len(UNITS)
    assert Role.objects.count() >= 8

    out = StringIO()
    call_command("demo", stdout=out)

    assert row_counts() == whole_demo.counts
    output = out.getvalue()
    assert "Demo data is ready." in output
    assert DEMO_PASSWORD in output
    assert all(username in output for username in PEOPLE)
    assert User.objects.get(username="manager_east").managed_units.get().name == "华东销售组"
    assert User.objects.get(username="rep_east1").check_password(DEMO_PASSWORD)
