"""GET /api/v1/customers/{id}/timeline: events newest first, kinds, the cursor, errors, scope."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from tuoke.customers import services as customer_services

from .test_timeline import T0, comment, follow_up, make_customer


@pytest.fixture
def customer(people):
    from tuoke.org.defaults import ensure_default_roles

    ensure_default_roles()
    rep = people["rep_east1"]
    made = make_customer(rep, contacts=[{"name": "王强"}])
    for i in range(5):
        follow_up(made, rep, f"电话{i}", T0 + timedelta(hours=i + 1))
        comment(made, people["rep_east2"], f"评论{i}", T0 + timedelta(hours=i + 1, minutes=30))
    return made


def url(customer) -> str:
    return f"/api/v1/customers/{customer.pk}/timeline"


def test_it_lists_the_events_newest_first(customer, people, login):
    response = login(people["rep_east1"]).get(url(customer), {"limit": 3})

    assert response.status_code == 200, response.content
    body = response.json()
    assert [(e["kind"], e["title"]) for e in body["items"]] == [
        ("comment", "Comment"),
        ("follow_up", "Call"),
        ("comment", "Comment"),
    ]
    first = body["items"][0]
    assert first["id"].startswith("comment:") and "评论4" in first["body"]
    assert first["actor"] == {
        "id": people["rep_east2"].pk,
        "username": "rep_east2",
        "display_name": "刘洋",
    }
    assert first["at"] == "2025-11-22T12:00:00Z"
    assert {k["key"] for k in body["kinds"]} >= {"follow_up", "comment", "visit", "lifecycle"}
    assert body["next"]


def test_it_walks_the_pages_by_cursor_to_the_end(customer, people, login):
    client = login(people["rep_east1"])
    seen, before = [], None
    while True:
        params = {"limit": 4, **({"before": before} if before else {})}
        body = client.get(url(customer), params).json()
        seen += [e["id"] for e in body["items"]]
        before = body["next"]
        if not before:
            break
    # 5 calls, 5 comments, the contact and the creation; each once.
    assert len(seen) == len(set(seen)) == 12
    assert seen[-2:] == sorted(seen[-2:], reverse=True)


def test_it_filters_by_kinds(customer, people, login):
    client = login(people["rep_east1"])
    only_calls = client.get(url(customer), {"kinds": "follow_up"}).json()
    assert {e["kind"] for e in only_calls["items"]} == {"follow_up"}
    assert len(only_calls["items"]) == 5
    both = client.get(url(customer) + "?kinds=follow_up&kinds=contact").json()
    assert {e["kind"] for e in both["items"]} == {"follow_up", "contact"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kinds": "follow_up,nonsense"}, "kinds"),
        ({"before": "nonsense"}, "before"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
    ],
)
def test_it_names_the_wrong_parameter(customer, people, login, params, field):
    response = login(people["rep_east1"]).get(url(customer), params)
    assert response.status_code == 400
    assert field in [e["field"] for e in response.json()["errors"]]


def test_a_customer_out_of_scope_is_404_and_a_stranger_401(customer, people, login):
    assert login(people["rep_south1"]).get(url(customer)).status_code == 404
    assert Client().get(url(customer)).status_code == 401


def test_a_collaborator_reads_it(customer, people, login):
    customer_services.set_collaborator(
        customer, user=people["rep_south1"], access="read", by=people["rep_east1"]
    )
    body = login(people["rep_south1"]).get(url(customer), {"kinds": "follow_up"}).json()
    assert len(body["items"]) == 5
