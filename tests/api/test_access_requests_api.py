"""Asking for access through the API: the duplicate check hands out a token for a customer
the caller may not see, the owner lists and decides the requests."""

import pytest

from tuoke.customers.models import Collaborator
from tuoke.customers.services import create_customer


@pytest.fixture
def south_customer(people):
    return create_customer(by=people["rep_south1"], legal_name="广州市白云机电设备有限公司")


def _token(api):
    found = api.post("/customers/duplicates", {"legal_name": "白云机电设备（广州）有限公司"})
    assert found.status_code == 200, found.content
    [candidate] = found.json()["candidates"]
    assert candidate["id"] is None and candidate["kind"] == "same"
    return candidate["access_token"]


def test_a_rep_asks_and_the_owner_grants(people, south_customer, api_as):
    rep = api_as(people["rep_east1"])
    asked = rep.post(
        "/access-requests",
        {"access_token": _token(rep), "access": "edit", "message": "展会上认识的"},
    )
    assert asked.status_code == 201, asked.content
    body = asked.json()
    assert body["customer_id"] is None
    assert body["customer_name"] == "广州市白云机电设备有限公司"
    assert body["status"] == "pending"

    owner = api_as(people["rep_south1"])
    waiting = owner.get("/access-requests").json()
    assert [r["id"] for r in waiting["items"]] == [body["id"]]
    assert waiting["items"][0]["customer_id"] == south_customer.pk
    decided = owner.post(
        f"/access-requests/{body['id']}/decide", {"decision": "grant", "access": "read"}
    )
    assert decided.status_code == 200, decided.content
    assert decided.json()["status"] == "granted"
    link = Collaborator.objects.get(customer=south_customer, user=people["rep_east1"])
    assert link.access == "read"

    mine = rep.get("/access-requests", {"box": "mine"}).json()["items"]
    assert mine[0]["customer_id"] == south_customer.pk
    assert rep.get(f"/customers/{south_customer.pk}").status_code == 200


def test_the_owner_declines(people, south_customer, api_as):
    rep = api_as(people["rep_east1"])
    asked = rep.post("/access-requests", {"access_token": _token(rep)}).json()
    owner = api_as(people["rep_south1"])
    decided = owner.post(
        f"/access-requests/{asked['id']}/decide",
        {"decision": "decline", "note": "已在跟进"},
    )
    assert decided.json()["status"] == "declined"
    assert rep.get(f"/customers/{south_customer.pk}").status_code == 404


def test_someone_elses_token_or_a_forged_one_is_404(people, south_customer, api_as):
    token = _token(api_as(people["rep_east1"]))
    other = api_as(people["rep_east2"])
    assert other.post("/access-requests", {"access_token": token}).status_code == 404
    forged = other.post("/access-requests", {"access_token": "x" + token})
    assert forged.status_code == 404


def test_the_requester_cannot_decide_his_own_request(people, south_customer, api_as):
    rep = api_as(people["rep_east1"])
    asked = rep.post("/access-requests", {"access_token": _token(rep)}).json()
    response = rep.post(f"/access-requests/{asked['id']}/decide", {"decision": "grant"})
    assert response.status_code == 404


def test_asking_twice_is_refused_with_a_message(people, south_customer, api_as):
    rep = api_as(people["rep_east1"])
    token = _token(rep)
    rep.post("/access-requests", {"access_token": token})
    again = rep.post("/access-requests", {"access_token": token})
    assert again.status_code == 400
    assert again.json()["errors"][0]["code"] == "duplicate"


def test_a_visible_candidate_has_no_token(people, api_as):
    create_customer(by=people["rep_east1"], legal_name="上海浦江精密机械有限公司")
    found = api_as(people["rep_east1"]).post(
        "/customers/duplicates", {"legal_name": "浦江精密机械（上海）有限公司"}
    )
    [candidate] = found.json()["candidates"]
    assert candidate["id"] is not None and candidate["access_token"] is None


def test_my_requests_are_listed_in_constant_queries(people, api_as, django_assert_max_num_queries):
    from tuoke.customers.services import request_access

    rep = people["rep_east1"]
    for i in range(6):
        customer = create_customer(by=people["rep_south1"], short_name=f"南方{i}号")
        request_access(customer, by=rep)
    api = api_as(rep)
    api.get("/access-requests", {"box": "mine"})  # warm the session and grants
    with django_assert_max_num_queries(8):
        items = api.get("/access-requests", {"box": "mine"}).json()["items"]
    assert len(items) == 6 and all(item["customer_id"] is None for item in items)
