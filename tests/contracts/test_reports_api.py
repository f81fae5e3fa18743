"""The receivables, renewals and sales-credit API against the hand counts of test_queries."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from tests.api.conftest import ApiClient, assert_error
from tests.contracts.test_queries import build_book, build_renewals
from tuoke.contracts.models import SalesCredit

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def api_as():
    from django.test import Client

    def make(user):
        client = Client()
        client.force_login(user)
        return ApiClient(client)

    return make


@pytest.fixture
def book(people):
    return build_book(people)


@pytest.fixture
def renewals(people):
    return build_renewals(people)


def _money(values: dict) -> dict:
    return {k: D(v) for k, v in values.items()}


def test_it_gives_the_receivables_ageing_counted_by_hand(people, book, api_as):
    body = api_as(people["boss"]).get("/receivables", {"as_of": "2026-06-30"}).json()
    assert body["as_of"] == "2026-06-30" and body["currency"] == "CNY"
    assert _money(body["buckets"]) == {
        "not_due": D("100000"),
        "1_30": D("58800"),
        "31_90": D("40000"),
        "over_90": D("165000"),
    }
    assert D(body["total"]) == D("363800") and D(body["overdue"]) == D("263800")
    assert body["contracts"] == 6
    per_rep = {r["owner"]["username"]: D(r["total"]) for r in body["by_owner"]}
    assert per_rep == {"rep_east1": D("125000"), "rep_east2": D("58800"), "rep_south1": D("180000")}
    per_unit = {r["unit"]["name"]: D(r["total"]) for r in body["by_unit"]}
    assert per_unit == {"销售部": D("363800"), "华东销售组": D("183800"), "华南销售组": D("180000")}
    rows = body["rows"]
    assert rows["count"] == 6 and rows["page"] == 1
    first = rows["items"][0]
    assert first["number"] == "HT-S1-001" and D(first["outstanding"]) == D("150000")
    assert first["days_overdue"] == 180 and first["oldest_due_on"] == "2026-01-01"
    usd = next(r for r in rows["items"] if r["number"] == "HT-E2-001")
    assert D(usd["buckets"]["1_30"]) == D("4000") and D(usd["reporting_outstanding"]) == D("28800")


def test_its_rows_are_the_contracts_of_a_bucket_paginated(people, book, api_as):
    client = api_as(people["boss"])
    body = client.get("/receivables", {"as_of": "2026-06-30", "bucket": "1_30"}).json()
    assert {r["number"] for r in body["rows"]["items"]} == {"HT-E1-002", "HT-E2-001", "HT-E2-002"}
    params = {"as_of": "2026-06-30", "order": "oldest", "page_size": 2, "page": 2}
    body = client.get("/receivables", params).json()
    assert [r["number"] for r in body["rows"]["items"]] == ["HT-E2-002", "HT-E2-001"]
    assert body["rows"]["count"] == 6 and body["rows"]["page_size"] == 2
    owner = people["rep_east2"].pk
    body = client.get("/receivables", {"as_of": "2026-06-30", "owner": owner}).json()
    assert D(body["total"]) == D("58800")
    assert_error(client.get("/receivables", {"bucket": "soon"}), 400, "bucket")


def test_it_keeps_the_receivables_to_the_scope(people, book, api_as):
    client = api_as(people["rep_east1"])
    body = client.get("/receivables", {"as_of": "2026-06-30"}).json()
    assert D(body["total"]) == D("125000")
    assert {r["number"] for r in body["rows"]["items"]} == {"HT-E1-001", "HT-E1-002"}
    # Someone or some unit out of sight is a bad filter, not a way in.
    assert_error(client.get("/receivables", {"owner": people["rep_south1"].pk}), 400, "owner")
    assert_error(client.get("/receivables", {"unit": people["rep_south1"].unit_id}), 400, "unit")
    team = api_as(people["manager_east"]).get("/receivables", {"as_of": "2026-06-30"}).json()
    assert D(team["total"]) == D("183800")
    assert_error(api_as(people["marketing1"]).get("/receivables"), 403)


def test_it_reads_the_receivables_in_a_constant_number_of_queries(
    people, book, api_as, django_assert_max_num_queries
):
    client = api_as(people["boss"])
    client.get("/receivables", {"as_of": "2026-06-30"})
    with django_assert_max_num_queries(14):
        assert client.get("/receivables", {"as_of": "2026-06-30"}).status_code == 200


def test_it_lists_contracts_ending_soon(people, renewals, api_as):
    client = api_as(people["boss"])
    with time_machine.travel(date(2026, 7, 20), tick=False):
        body = client.get("/renewals", {"days": 73}).json()
        assert [r["number"] for r in body["items"]] == ["HT-D10", "HT-D7"]
        assert body["items"][0]["days_left"] == 11
        assert body["items"][0]["customer"]["name"] and body["items"][0]["owner"]["username"]
        assert [r["number"] for r in client.get("/renewals").json()["items"]] == ["HT-D10"]
        mine = api_as(people["rep_south1"]).get("/renewals", {"days": 73}).json()
        assert mine["items"] == []
        assert_error(client.get("/renewals", {"days": 0}), 400, "days")


def test_it_gives_the_renewal_figures_counted_by_hand(people, renewals, api_as):
    client = api_as(people["boss"])
    body = client.get("/renewals/figures", {"start": "2026-07-01", "end": "2026-09-30"}).json()
    assert (body["due_count"], body["renewed_count"], body["not_renewed_count"]) == (6, 3, 3)
    assert D(body["rate_by_count"]) == D("0.5") and D(body["rate_by_amount"]) == D("0.4679")
    assert D(body["due_amount"]) == D("545000") and D(body["renewed_amount"]) == D("255000")
    assert D(body["renewal_amount"]) == D("292500")
    assert body["missing_rates"] == []
    mine = api_as(people["rep_east1"]).get(
        "/renewals/figures", {"start": "2026-07-01", "end": "2026-09-30"}
    )
    assert mine.json()["due_count"] == 3 and D(mine.json()["rate_by_count"]) == D("0.3333")
    empty = client.get("/renewals/figures", {"start": "2030-01-01", "end": "2030-03-31"})
    assert empty.json()["rate_by_count"] is None
    backwards = client.get("/renewals/figures", {"start": "2026-09-30", "end": "2026-07-01"})
    assert_error(backwards, 400, "end")
    assert_error(client.get("/renewals/figures", {"start": "2026-07-01"}), 400, "end")


def _credit(people, username, day, amount, contract):
    owner = people[username]
    return SalesCredit.objects.create(
        contract=contract,
        owner=owner,
        unit=owner.unit,
        cause="payment",
        amount=D(amount),
        currency="CNY",
        reporting_amount=D(amount),
        credited_on=day,
    )


def test_it_sums_sales_credit_per_owner_within_the_scope(people, book, api_as):
    _credit(people, "rep_east1", date(2026, 4, 1), "25000", book["E1-001"])
    _credit(people, "rep_east1", date(2026, 5, 1), "-5000", book["E1-001"])
    _credit(people, "rep_east2", date(2026, 4, 2), "42600", book["E2-001"])
    _credit(people, "rep_south1", date(2026, 2, 1), "50000", book["S1-001"])
    _credit(people, "rep_south1", date(2026, 7, 1), "9000", book["S1-001"])  # after the period
    period = {"start": "2026-01-01", "end": "2026-06-30"}
    body = api_as(people["boss"]).get("/sales-credit", period).json()
    assert body["rule"] == "payment" and body["currency"] == "CNY"
    assert [(r["owner"]["username"], D(r["total"])) for r in body["by_owner"]] == [
        ("rep_south1", D("50000")),
        ("rep_east2", D("42600")),
        ("rep_east1", D("20000")),
    ]
    assert D(body["total"]) == D("112600")
    team = api_as(people["manager_east"]).get("/sales-credit", period).json()
    assert D(team["total"]) == D("62600")
    mine = api_as(people["rep_east1"]).get("/sales-credit", period).json()
    assert [r["owner"]["username"] for r in mine["by_owner"]] == ["rep_east1"]
    unit = people["rep_south1"].unit_id
    south = api_as(people["boss"]).get("/sales-credit", {**period, "unit": unit}).json()
    assert D(south["total"]) == D("50000")
    east2 = api_as(people["boss"]).get("/sales-credit", {**period, "owner": people["rep_east2"].pk})
    assert D(east2.json()["total"]) == D("42600")
    assert_error(
        api_as(people["rep_east1"]).get("/sales-credit", {**period, "owner": people["boss"].pk}),
        400,
        "owner",
    )
