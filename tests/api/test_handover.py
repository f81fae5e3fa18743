"""POST /users/{id}/handover: a leaver's records go to a colleague, all or nothing."""

import pytest

from tuoke.customers.models import Customer
from tuoke.customers.services import create_customer


@pytest.fixture
def book(people):
    rep = people["rep_east1"]
    return [
        create_customer(by=rep, short_name=name) for name in ("东方精密", "华星电子", "明辉物流")
    ]


def test_the_api_hands_over(people, book, api_as):
    response = api_as(people["manager_east"]).post(
        f"/users/{people['rep_east1'].pk}/handover",
        {"to_user_id": people["rep_east2"].pk, "reason": "离职"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["handed_over"] == {"customers": 3}


def test_the_api_refuses_a_rep(people, book, api_as):
    response = api_as(people["rep_east2"]).post(
        f"/users/{people['rep_east1'].pk}/handover",
        {"to_user_id": people["rep_east2"].pk, "reason": "离职"},
    )
    assert response.status_code == 403
    assert Customer.objects.filter(owner=people["rep_east1"]).count() == 3


def test_the_api_wants_a_reason(people, book, api_as):
    response = api_as(people["manager_east"]).post(
        f"/users/{people['rep_east1'].pk}/handover",
        {"to_user_id": people["rep_east2"].pk, "reason": ""},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "reason"
