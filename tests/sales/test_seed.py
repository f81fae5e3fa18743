"""The benchmark data set's opportunities (`tuoke bench seed --size small`): exactly the size's
count in the default pipeline on living customers, owned by the customers' owners, with stage
histories as the services leave them (the large set's benchmark is bench/sales.py)."""

import itertools
from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from tuoke.core import seed
from tuoke.sales.board import board_data
from tuoke.sales.models import Opportunity, Pipeline, StageVisit
from tuoke.sales.queries import funnel

pytestmark = pytest.mark.django_db

SMALL = seed.SIZES["small"]


@pytest.fixture
def seeded(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("bench", "seed", "--size", "small", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_it_writes_the_opportunities_of_the_small_set(seeded):
    deals = Opportunity.all_objects.all()
    assert deals.count() == SMALL.opportunities
    assert SIZES_ARE_PROPORTIONAL
    pipeline = Pipeline.objects.get(is_default=True)
    assert set(deals.values_list("pipeline_id", flat=True)) == {pipeline.pk}
    # On living customers, by their owners (the bench users), some customers with two.
    assert not deals.exclude(owner=F("customer__owner")).exists()
    assert not deals.filter(customer__deleted_at__isnull=False).exists()
    assert not deals.filter(created_at__lt=F("customer__created_at")).exists()
    per_customer = Counter(deals.values_list("customer_id", flat=True))
    assert max(per_customer.values()) >= 2
    owners = set(deals.values_list("owner__username", flat=True))
    assert all(name.startswith("bench_") for name in owners) and len(owners) > 10
    status = Counter(deals.values_list("status", flat=True))
    assert 0.2 < status["won"] / SMALL.opportunities < 0.4
    assert 0.25 < status["lost"] / SMALL.opportunities < 0.45
    assert 0.2 < status["open"] / SMALL.opportunities < 0.5
    assert not deals.filter(status="lost", lost_reason__isnull=True).exists()
    assert not deals.exclude(status="lost").filter(lost_reason__isnull=False).exists()
    assert not deals.filter(amount__lt=50_000).exists()
    assert not deals.filter(amount__gt=3_000_000).exists()


SIZES_ARE_PROPORTIONAL = (
    seed.SIZES["large"].opportunities / seed.SIZES["large"].customers
    == SMALL.opportunities / SMALL.customers
)


def test_histories_are_as_the_services_leave_them(seeded):
    now = timezone.now()
    visits = StageVisit.objects.select_related("stage").order_by(
        "opportunity_id", "entered_at", "pk"
    )
    deals = {o.pk: o for o in Opportunity.all_objects.select_related("stage")}
    count = 0
    for pk, group in itertools.groupby(visits, key=lambda v: v.opportunity_id):
        history = list(group)
        deal = deals[pk]
        count += len(history)
        for before, after in itertools.pairwise(history):
            assert before.left_at == after.entered_at
            assert before.entered_at <= before.left_at
        assert history[-1].left_at is None
        assert history[-1].stage_id == deal.stage_id
        assert deal.status == deal.stage.kind
        assert deal.stage_entered_at == history[-1].entered_at <= now
        assert deal.created_at == history[0].entered_at
        assert (deal.closed_at is None) == (deal.status == "open")
        assert [v.stage.sort_order for v in history] == sorted(v.stage.sort_order for v in history)
        assert all(v.stage_name == v.stage.name for v in history)
    assert 3 < count / len(deals) < 5  # about four stays each


def test_the_board_and_the_funnel_read_the_seeded_set(seeded):
    from tuoke.org.models import User

    pipeline = Pipeline.objects.get(is_default=True)
    manager = User.objects.get(username=seed.bench_username(0, 0))
    board = board_data(manager, pipeline, {"unit": manager.unit})
    unit_open = Opportunity.objects.filter(owner__unit=manager.unit, status="open").count()
    assert sum(c.count for c in board.columns) == unit_open > 0
    boss = User.objects.get(username="boss")
    today = timezone.localdate()
    figures = funnel(boss, start=today.replace(year=today.year - 1), end=today, pipeline=pipeline)
    assert figures.cohort > SMALL.opportunities * 0.3
    assert figures.won > 0 and figures.lost > 0
