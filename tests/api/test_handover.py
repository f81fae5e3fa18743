"""POST /users/{id}/handover and /deactivate: a leaver's records go to a colleague, all or
nothing."""

import pytest
from django.test import Client

from tuoke.customers.models import Customer
from tuoke.customers.services import create_customer

from .conftest import API, assert_error


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


# --- Deactivation with a handover ---------------------------------------------------------------


def test_the_api_deactivates_and_hands_over_in_one_step(people, book, api_as):
    rep = people["rep_east1"]
    response = api_as(people["admin"]).post(
        f"/users/{rep.pk}/deactivate", {"to_user_id": people["rep_east2"].pk, "reason": "离职"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["is_active"] is False
    assert body["handed_over"] == {"customers": 3}
    assert Customer.objects.filter(owner=people["rep_east2"]).count() == 3


def test_the_api_deactivates_without_a_body_and_keeps_the_records_with_him(people, book):
    rep = people["rep_east1"]
    client = Client()
    client.force_login(people["admin"])
    # As an HTTP client sends a POST without a body: nothing at all.
    response = client.post(
        f"{API}/users/{rep.pk}/deactivate", data=b"", content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["handed_over"] == {}
    rep.refresh_from_db()
    assert not rep.is_active
    assert Customer.objects.filter(owner=rep).count() == 3


def test_a_refused_handover_leaves_him_active(people, book, api_as):
    rep = people["rep_east1"]
    api = api_as(people["admin"])
    assert_error(
        api.post(f"/users/{rep.pk}/deactivate", {"to_user_id": people["rep_east2"].pk}),
        400,
        "reason",
    )
    outsider = api.post(f"/users/{rep.pk}/deactivate", {"to_user_id": 10**9, "reason": "离职"})
    assert_error(outsider, 400, "to_user_id")
    rep.refresh_from_db()
    assert rep.is_active
    assert Customer.objects.filter(owner=rep).count() == 3


@pytest.mark.parametrize("route", ["handover", "deactivate"])
def test_a_refused_colleague_is_named_by_the_input_field(people, book, api_as, route):
    rep = people["rep_east1"]
    response = api_as(people["admin"]).post(
        f"/users/{rep.pk}/{route}", {"to_user_id": rep.pk, "reason": "离职"}
    )
    assert response.status_code == 400, response.content
    assert [e["field"] for e in response.json()["errors"]] == ["to_user_id"]
    assert Customer.objects.filter(owner=rep).count() == 3
