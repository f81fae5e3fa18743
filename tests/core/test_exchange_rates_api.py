"""The exchange rates API: read by everyone, kept by finance and administrators."""

from datetime import date
from decimal import Decimal

import pytest

from tests.api.conftest import ApiClient, assert_error
from tuoke.core import money
from tuoke.core.models import ExchangeRate

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_as():
    from django.test import Client

    def make(user):
        client = Client()
        client.force_login(user)
        return ApiClient(client)

    return make


@pytest.fixture
def rates(people):
    finance = people["finance1"]
    return {
        (code, day): money.create_rate(currency=code, valid_on=day, rate=rate, by=finance)
        for code, day, rate in [
            ("USD", date(2026, 1, 1), "7.1"),
            ("USD", date(2026, 3, 1), "7.2"),
            ("EUR", date(2026, 2, 1), "7.8"),
            ("EUR", date(2026, 4, 1), "7.9"),
        ]
    }


def test_everyone_lists_rates_latest_first_in_constant_queries(
    people, rates, api_as, django_assert_max_num_queries
):
    client = api_as(people["rep_east1"])
    client.get("/exchange-rates")
    with django_assert_max_num_queries(6):
        body = client.get("/exchange-rates").json()
    assert body["count"] == 4
    assert [(r["currency"], r["valid_on"]) for r in body["items"]] == [
        ("EUR", "2026-04-01"),
        ("USD", "2026-03-01"),
        ("EUR", "2026-02-01"),
        ("USD", "2026-01-01"),
    ]
    first = body["items"][0]
    assert Decimal(first["rate"]) == Decimal("7.9")
    assert first["reporting_currency"] == "CNY"
    assert first["version"] == 1


def test_it_filters_by_currency_and_gives_the_rate_valid_on_a_day(people, rates, api_as):
    client = api_as(people["rep_east1"])
    body = client.get("/exchange-rates", {"currency": "usd"}).json()
    assert [r["valid_on"] for r in body["items"]] == ["2026-03-01", "2026-01-01"]
    body = client.get("/exchange-rates", {"on": "2026-03-15"}).json()
    assert {r["currency"]: Decimal(r["rate"]) for r in body["items"]} == {
        "USD": Decimal("7.2"),
        "EUR": Decimal("7.8"),
    }
    body = client.get("/exchange-rates", {"on": "2026-01-15"}).json()
    assert [r["currency"] for r in body["items"]] == ["USD"]
    body = client.get("/exchange-rates", {"on": "2026-02-28", "currency": "USD"}).json()
    assert [Decimal(r["rate"]) for r in body["items"]] == [Decimal("7.1")]
    assert_error(client.get("/exchange-rates", {"on": "yesterday"}), 400, "on")


def test_finance_creates_a_rate(people, api_as):
    client = api_as(people["finance1"])
    response = client.post(
        "/exchange-rates", {"currency": "usd", "valid_on": "2026-05-06", "rate": "7.1835"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["currency"] == "USD" and Decimal(body["rate"]) == Decimal("7.1835")
    assert ExchangeRate.objects.get(pk=body["id"]).created_by == people["finance1"]


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        ({"currency": "US", "rate": "7"}, "currency", "invalid"),
        ({"currency": "CNY", "rate": "7"}, "currency", "reporting_currency"),
        ({"currency": "USD", "rate": "0"}, "rate", "invalid"),
        ({"currency": "USD", "rate": "-7"}, "rate", "invalid"),
        ({"currency": "USD", "rate": "seven"}, "rate", None),
        ({"currency": "USDX", "rate": "7"}, "currency", None),
        ({"rate": "7"}, "currency", None),
    ],
)
def test_it_names_what_is_wrong_with_a_new_rate(people, api_as, payload, field, code):
    client = api_as(people["finance1"])
    response = client.post("/exchange-rates", {"valid_on": "2026-05-06", **payload})
    assert_error(response, 400, field, code)
    assert not ExchangeRate.objects.exists()


def test_it_refuses_a_second_rate_for_a_day_unless_told_to_replace_it(people, rates, api_as):
    client = api_as(people["finance1"])
    payload = {"currency": "USD", "valid_on": "2026-03-01", "rate": "7.25"}
    assert_error(client.post("/exchange-rates", payload), 400, "valid_on", "duplicate")
    response = client.post("/exchange-rates", {**payload, "replace": True})
    assert response.status_code == 201
    assert response.json()["id"] == rates[("USD", date(2026, 3, 1))].pk
    assert Decimal(response.json()["rate"]) == Decimal("7.25")
    assert ExchangeRate.objects.filter(currency="USD").count() == 2


def test_finance_corrects_a_rate_with_its_version(people, rates, api_as):
    client = api_as(people["finance1"])
    rate = rates[("USD", date(2026, 3, 1))]
    assert_error(client.patch(f"/exchange-rates/{rate.pk}", {"rate": "7.3"}), 400, "version")
    response = client.patch(f"/exchange-rates/{rate.pk}", {"rate": "7.3", "version": 1})
    assert response.status_code == 200
    assert Decimal(response.json()["rate"]) == Decimal("7.3") and response.json()["version"] == 2
    assert (
        client.patch(f"/exchange-rates/{rate.pk}", {"rate": "7.4", "version": 1}).status_code == 409
    )
    moved = client.patch(f"/exchange-rates/{rate.pk}", {"valid_on": "2026-01-01", "version": 2})
    assert_error(moved, 400, "valid_on", "duplicate")


def test_finance_deletes_a_rate_into_the_recycle_bin(people, rates, api_as):
    client = api_as(people["finance1"])
    rate = rates[("EUR", date(2026, 4, 1))]
    assert client.delete(f"/exchange-rates/{rate.pk}").status_code == 204
    assert ExchangeRate.all_objects.get(pk=rate.pk).deleted_at is not None
    assert_error(client.get(f"/exchange-rates/{rate.pk}"), 404)
    assert money.rate_on("EUR", date(2026, 5, 1)) == Decimal("7.8")


def test_others_read_rates_but_may_not_change_them(people, rates, api_as):
    rate = rates[("USD", date(2026, 1, 1))]
    for name in ("rep_east1", "boss", "manager_east"):
        client = api_as(people[name])
        assert client.get(f"/exchange-rates/{rate.pk}").json()["currency"] == "USD"
        assert_error(client.patch(f"/exchange-rates/{rate.pk}", {"rate": "1", "version": 1}), 403)
        assert_error(client.delete(f"/exchange-rates/{rate.pk}"), 403)
        payload = {"currency": "GBP", "valid_on": "2026-01-01", "rate": "9"}
        assert_error(client.post("/exchange-rates", payload), 403)
    assert ExchangeRate.objects.count() == 4


def test_it_answers_404_for_unknown_and_deleted_rates(people, rates, api_as):
    client = api_as(people["admin"])
    rate = rates[("USD", date(2026, 1, 1))]
    money.delete_rate(rate, by=people["admin"])
    for method in ("get", "delete"):
        assert_error(getattr(client, method)(f"/exchange-rates/{rate.pk}"), 404)
    assert_error(client.patch(f"/exchange-rates/{rate.pk}", {"rate": "1", "version": 2}), 404)
    assert_error(client.get("/exchange-rates/999999"), 404)
