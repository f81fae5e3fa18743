"""Visits: planned, checked in once (with the place when the browser gives it), completed
with their follow-up, or cancelled."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tuoke.activities import services
from tuoke.activities.models import FollowUp, Task, Visit

from . import records

NOW = datetime(2026, 3, 10, 14, 30, tzinfo=timezone.get_default_timezone())


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def rep(people):
    return people["rep_east1"]


@pytest.fixture
def customer(rep):
    return records.customer(rep, contacts=[{"name": "王强"}])


@pytest.fixture
def visit(rep, customer):
    return services.plan_visit(
        by=rep,
        customer=customer,
        planned_at=NOW + timedelta(hours=1),
        purpose="演示新产品",
        contacts=customer.contacts.all(),
    )


def _codes(exc: ValidationError) -> dict[str, str]:
    return {field: errors[0].code for field, errors in exc.error_dict.items()}


def test_a_planned_visit_belongs_to_the_rep(rep, visit):
    assert visit.owner == rep and visit.status == Visit.Status.PLANNED
    assert visit.checked_in_at is None and visit.contacts.count() == 1


def test_it_needs_a_time(rep, customer):
    with pytest.raises(ValidationError) as caught:
        services.plan_visit(by=rep, customer=customer, planned_at=None)
    assert _codes(caught.value) == {"planned_at": "required"}


def test_it_checks_in_with_the_place_once(rep, visit):
    services.check_in(
        visit, latitude=31.230416, longitude="121.4737019", accuracy_m=12.4, address="上海市黄浦区"
    )
    visit.refresh_from_db()
    assert visit.checked_in_at == NOW
    assert (visit.latitude, visit.longitude) == (Decimal("31.230416"), Decimal("121.473702"))
    assert visit.accuracy_m == 12 and visit.address == "上海市黄浦区"

    with pytest.raises(ValidationError) as caught:
        services.check_in(visit, by=rep)
    assert _codes(caught.value) == {"checked_in_at": "already_checked_in"}


def test_it_checks_in_without_a_place_when_the_browser_says_nothing(rep, visit):
    services.check_in(visit, by=rep)
    visit.refresh_from_db()
    assert visit.checked_in_at == NOW and visit.latitude is None and visit.accuracy_m is None


@pytest.mark.parametrize(
    "given,field",
    [
        ({"latitude": 91, "longitude": 0}, "latitude"),
        ({"latitude": 30, "longitude": "east"}, "longitude"),
        ({"latitude": 30}, "longitude"),
    ],
)
def test_it_refuses_a_place_that_is_none(rep, visit, given, field):
    with pytest.raises(ValidationError) as caught:
        services.check_in(visit, by=rep, **given)
    assert field in _codes(caught.value)
    visit.refresh_from_db()
    assert visit.checked_in_at is None


def test_only_the_rep_who_visits_checks_in(people, visit):
    with pytest.raises(ValidationError) as caught:
        services.check_in(visit, by=people["manager_east"])
    assert _codes(caught.value) == {"checked_in_at": "not_yours"}


def test_completing_a_visit_logs_its_follow_up(rep, customer, visit):
    services.check_in(visit, by=rep, latitude=31.2, longitude=121.5)
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        services.complete_visit(
            visit,
            "演示顺利，客户技术负责人认可方案。",
            "认可方案",
            "发送报价",
            NOW.date() + timedelta(days=2),
            by=rep,
        )
    visit.refresh_from_db()
    follow_up = visit.follow_up
    assert visit.status == Visit.Status.DONE
    assert follow_up.kind.key == "visit" and follow_up.owner == rep
    assert follow_up.happened_at == NOW  # when he arrived
    assert follow_up.customer == customer and list(follow_up.contacts.all()) == list(
        visit.contacts.all()
    )
    customer.refresh_from_db()
    assert customer.last_follow_up_at == NOW
    assert Task.objects.get(source="next_step").title == "发送报价"

    with pytest.raises(ValidationError) as caught:
        services.complete_visit(visit, "再来一次", by=rep)
    assert _codes(caught.value) == {"status": "visit_closed"}
    assert FollowUp.objects.count() == 1


def test_a_visit_is_completed_with_some_content(rep, visit):
    with pytest.raises(ValidationError) as caught:
        services.complete_visit(visit, "  ", by=rep)
    assert _codes(caught.value) == {"content": "required"}
    visit.refresh_from_db()
    assert visit.status == Visit.Status.PLANNED


def test_a_cancelled_visit_can_no_longer_be_checked_in(people, rep, visit):
    with pytest.raises(PermissionDenied):
        services.cancel_visit(visit, by=people["rep_east2"])
    services.cancel_visit(visit, by=rep, reason="客户出差")
    visit.refresh_from_db()
    assert visit.status == Visit.Status.CANCELLED
    with pytest.raises(ValidationError) as caught:
        services.check_in(visit, by=rep)
    assert _codes(caught.value) == {"status": "visit_closed"}
