"""The `tuoke demo` and `tuoke token` commands."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tuoke.org.demo import DEMO_PASSWORD, PEOPLE
from tuoke.org.models import ApiToken, OrgUnit, Role, RoleGrant, User
from tuoke.org.services import user_for_token


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {
        model.__name__: model._default_manager.count() for model in (User, OrgUnit, Role, RoleGrant)
    }


def test_it_only_prints_the_logins_when_asked(db):
    before = _counts()
    output = _run("demo", "--logins-only")
    assert _counts() == before
    assert "Demo data is ready." not in output
    assert DEMO_PASSWORD in output
    assert all(username in output for username in PEOPLE)


def test_it_prints_a_token_that_authenticates(people):
    output = _run("token", "create", "rep_east1", "--name", "nightly export")
    raw = output.strip()
    assert user_for_token(raw) == people["rep_east1"]
    token = ApiToken.objects.get(user=people["rep_east1"])
    assert token.name == "nightly export"
    assert token.token_hash != raw


def test_it_refuses_a_token_for_an_unknown_user(db):
    with pytest.raises(CommandError, match="nobody"):
        _run("token", "create", "nobody")
    assert not ApiToken.objects.exists()


def test_it_refuses_a_token_for_a_deactivated_user(people):
    from tuoke.org.services import deactivate_user

    deactivate_user(people["rep_east1"], by=people["admin"])
    with pytest.raises(CommandError):
        _run("token", "create", "rep_east1")
