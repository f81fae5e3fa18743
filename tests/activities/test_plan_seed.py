"""The benchmark data set's follow-ups (`tuoke bench seed --size small`): five per customer,
each followed-up customer's newest one at its last follow-up time, some next steps; and
the plan made on it (the large set's benchmark is bench/activities.py)."""

import random

import pytest
from django.core.management import call_command
from django.db.models import Count, Max

from tuoke.activities import plan
from tuoke.activities.models import FollowUp, Task
from tuoke.activities.seed import FOLLOW_UPS_PER_CUSTOMER
from tuoke.core import seed
from tuoke.customers.models import Customer

pytestmark = pytest.mark.django_db

SMALL = seed.SIZES["small"]


@pytest.fixture
def seeded(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("bench", "seed", "--size", "small", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_it_writes_the_follow_ups_of_the_small_set(seeded):
    assert FollowUp.all_objects.count() == SMALL.customers * FOLLOW_UPS_PER_CUSTOMER
    followed = Customer.all_objects.filter(last_follow_up_at__isnull=False)
    # Every followed-up customer has follow-ups, the others none.
    per_customer = dict(
        FollowUp.objects.values("customer_id")
        .annotate(n=Count("pk"))
        .values_list("customer_id", "n")
    )
    assert set(per_customer) == set(followed.values_list("pk", flat=True))
    assert min(per_customer.values()) >= 1
    # A customer's newest follow-up is its last follow-up time.
    sample = random.Random(5).sample(list(per_customer), 300)
    newest = dict(
        FollowUp.objects.filter(customer_id__in=sample)
        .values("customer_id")
        .annotate(at=Max("happened_at"))
        .values_list("customer_id", "at")
    )
    last = dict(followed.filter(pk__in=sample).values_list("pk", "last_follow_up_at"))
    assert newest == last
    # By the customer's owner, between its creation and now, with content and some next steps.
    follow_up = FollowUp.objects.select_related("customer").order_by("?").first()
    assert follow_up.owner_id == follow_up.customer.owner_id
    assert follow_up.customer.created_at <= follow_up.happened_at
    assert follow_up.content.endswith("。")
    with_steps = FollowUp.objects.filter(next_step_on__isnull=False).count()
    assert 0.15 < with_steps / FollowUp.objects.count() < 0.35


def test_the_plan_on_the_seeded_set_is_capped_and_idempotent(seeded):
    first = plan.generate_plan()

    assert first.counts["cadence"] > 0 and first.counts["next_step"] > 0
    per_rep = Task.objects.filter(source="cadence").values("owner_id").annotate(n=Count("pk"))
    assert max(row["n"] for row in per_rep) <= plan.cadence_cap()
    assert plan.generate_plan().created == 0
