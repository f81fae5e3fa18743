"""The visits API: plan, list, check in, complete, cancel; scope."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.api.conftest import assert_error
from tuoke.activities import services

from . import records


@pytest.fixture
def rep(people):
    return people["rep_east1"]


@pytest.fixture
def customer(rep):
    return records.customer(rep, contacts=[{"name": "王强"}])


def test_a_visit_from_plan_to_done(rep, customer):
    api = records.api(rep)
    planned = api.post(
        "/visits",
        {
            "customer_id": customer.pk,
            "planned_at": (timezone.now() + timedelta(hours=2)).isoformat(),
            "purpose": "演示新产品",
            "contact_ids": [customer.contacts.get().pk],
        },
    )
    assert planned.status_code == 201, planned.content
    visit = planned.json()
    assert visit["status"] == "planned" and visit["owner"]["username"] == "rep_east1"

    url = f"/visits/{visit['id']}"
    checked = api.post(
        f"{url}/check-in", {"latitude": 31.230416, "longitude": 121.473702, "accuracy_m": 8}
    ).json()
    assert checked["checked_in_at"] and checked["latitude"] == 31.230416
    assert checked["accuracy_m"] == 8
    assert_error(api.post(f"{url}/check-in", {}), 400, "checked_in_at", "already_checked_in")

    assert_error(api.post(f"{url}/complete", {}), 400, "content", "required")
    done = api.post(f"{url}/complete", {"content": "客户认可方案", "next_step_on": None}).json()
    assert done["status"] == "done" and done["follow_up_id"]
    follow_up = api.get(f"/follow-ups/{done['follow_up_id']}").json()
    assert follow_up["kind"] == "visit" and follow_up["happened_at"] == checked["checked_in_at"]
    assert [c["name"] for c in follow_up["contacts"]] == ["王强"]
    assert_error(api.post(f"{url}/cancel", {}), 400, "status", "visit_closed")


def test_it_lists_planned_visits_soonest_first_in_constant_queries(
    people, rep, customer, django_assert_max_num_queries
):
    for hours in (30, 5, 50, 1):
        services.plan_visit(
            by=rep, customer=customer, planned_at=timezone.now() + timedelta(hours=hours)
        )
    records.south_visit(people)
    api = records.api(rep)
    with django_assert_max_num_queries(10):
        body = api.get("/visits", {"status": "planned"}).json()
    assert body["count"] == 4
    times = [v["planned_at"] for v in body["items"]]
    assert times == sorted(times)


def test_a_manager_cancels_but_does_not_check_in(people, rep, customer):
    visit = services.plan_visit(
        by=rep, customer=customer, planned_at=timezone.now() + timedelta(hours=2)
    )
    manager = records.api(people["manager_east"])
    assert_error(
        manager.post(f"/visits/{visit.pk}/check-in", {}), 400, "checked_in_at", "not_yours"
    )
    cancelled = manager.post(f"/visits/{visit.pk}/cancel", {"reason": "客户出差"}).json()
    assert cancelled["status"] == "cancelled"


def test_an_outsider_gets_404(people, rep):
    visit = records.south_visit(people)
    api = records.api(rep)
    for path in ("", "/check-in", "/complete", "/cancel"):
        response = (
            api.get(f"/visits/{visit.pk}")
            if not path
            else api.post(f"/visits/{visit.pk}{path}", {"content": "x"})
        )
        assert_error(response, 404)
    payload = {
        "customer_id": records.south_customer(people).pk,
        "planned_at": timezone.now().isoformat(),
    }
    assert_error(api.post("/visits", payload), 400, "customer_id")
