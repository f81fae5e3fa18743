"""Exchange rate pages: finance adds, corrects and deletes rates; everyone reads them."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tuoke.core import money
from tuoke.core.models import ExchangeRate

LIST = reverse("exchange_rates:list")


@pytest.fixture
def usd(people):
    today = timezone.localdate()
    finance = people["finance1"]
    money.create_rate(currency="USD", valid_on=today - timedelta(days=40), rate="7.1", by=finance)
    current = money.create_rate(
        currency="USD", valid_on=today - timedelta(days=5), rate="7.2", by=finance, note="中间价"
    )
    money.create_rate(currency="USD", valid_on=today + timedelta(days=3), rate="7.3", by=finance)
    money.create_rate(currency="EUR", valid_on=today - timedelta(days=1), rate="7.85", by=finance)
    return current


def test_it_lists_todays_rate_per_currency_and_the_history(login, people, usd):
    response = login(people["finance1"]).get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="current-rate"') == 2
    assert "1 USD = 7.2 CNY" in html  # not the upcoming 7.3
    assert "1 EUR = 7.85 CNY" in html
    assert html.count('data-testid="rate-row"') == 4
    assert "upcoming" in html
    assert 'data-testid="rate-create"' in html


def test_it_filters_the_history_by_currency(login, people, usd):
    response = login(people["finance1"]).get(LIST, {"currency": "eur"})
    html = response.content.decode()
    assert html.count('data-testid="rate-row"') == 1
    assert 'data-currency="EUR"' in html
    # An unknown currency shows everything rather than nothing.
    html = login(people["finance1"]).get(LIST, {"currency": "XYZ"}).content.decode()
    assert html.count('data-testid="rate-row"') == 4


def test_it_shows_rates_read_only_to_people_who_may_not_change_them(login, people, usd):
    html = login(people["rep_east1"]).get(LIST).content.decode()
    assert "1 USD = 7.2 CNY" in html
    assert 'data-testid="rate-create"' not in html and 'data-testid="rate-edit"' not in html
    assert login(people["rep_east1"]).get(reverse("exchange_rates:create")).status_code == 403
    for name in ("exchange_rates:edit", "exchange_rates:delete"):
        url = reverse(name, args=[usd.pk])
        assert login(people["rep_east1"]).get(url).status_code == 404
        assert login(people["boss"]).post(url).status_code == 404
    assert ExchangeRate.objects.filter(pk=usd.pk).exists()


def test_it_lists_with_a_constant_number_of_queries(login, people, django_assert_max_num_queries):
    finance = people["finance1"]
    client = login(finance)
    client.get(LIST)
    start = date(2025, 1, 1)
    for offset in range(30):
        for code in ("USD", "EUR", "HKD"):
            money.create_rate(
                currency=code, valid_on=start + timedelta(days=offset), rate="7", by=finance
            )
    with django_assert_max_num_queries(14):
        response = client.get(LIST)
    assert response.content.decode().count('data-testid="rate-row"') == 50


def test_it_creates_a_rate(login, people):
    client = login(people["finance1"])
    assert client.get(reverse("exchange_rates:create")).status_code == 200
    response = client.post(
        reverse("exchange_rates:create"),
        {"currency": "usd", "valid_on": "2026-03-02", "rate": "7.1234", "note": "中间价"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?currency=USD"
    rate = ExchangeRate.objects.get()
    assert (rate.currency, rate.valid_on, rate.rate) == ("USD", date(2026, 3, 2), Decimal("7.1234"))
    assert rate.created_by == people["finance1"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"currency": "US", "rate": "7"}, "currency", "three-letter ISO code"),
        ({"currency": "CNY", "rate": "7"}, "currency", "reporting currency"),
        ({"currency": "USD", "rate": "0"}, "rate", "greater than zero"),
        ({"currency": "USD", "rate": "-2"}, "rate", "greater than zero"),
        ({"currency": "USD", "rate": ""}, "rate", "required"),
    ],
)
def test_it_explains_what_is_wrong_with_a_rate(login, people, data, field, message):
    client = login(people["finance1"])
    response = client.post(reverse("exchange_rates:create"), {"valid_on": "2026-03-02", **data})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-field-error="{field}"' in html
    assert message in html
    assert not ExchangeRate.objects.exists()


def test_it_refuses_a_second_rate_for_the_same_day(login, people, usd):
    client = login(people["finance1"])
    response = client.post(
        reverse("exchange_rates:create"),
        {"currency": "USD", "valid_on": usd.valid_on.isoformat(), "rate": "8"},
    )
    html = response.content.decode()
    assert 'data-field-error="valid_on"' in html
    assert "already has a rate from" in html
    assert ExchangeRate.objects.get(pk=usd.pk).rate == Decimal("7.2")


def test_it_edits_a_rate_with_its_version(login, people, usd):
    client = login(people["finance1"])
    url = reverse("exchange_rates:edit", args=[usd.pk])
    page = client.get(url).content.decode()
    assert 'value="7.2"' in page and "audit" in page.lower()
    data = {
        "currency": "USD",
        "valid_on": usd.valid_on.isoformat(),
        "rate": "7.25",
        "note": "更正",
        "version": usd.version,
    }
    assert client.post(url, data).status_code == 302
    usd.refresh_from_db()
    assert usd.rate == Decimal("7.25") and usd.note == "更正"
    # The same form again is stale now.
    response = client.post(url, {**data, "rate": "7.3"})
    assert response.status_code == 200
    assert "changed by someone else" in response.content.decode()
    assert ExchangeRate.objects.get(pk=usd.pk).rate == Decimal("7.25")


def test_it_deletes_a_rate_after_confirmation(login, people, usd):
    client = login(people["admin"])
    url = reverse("exchange_rates:delete", args=[usd.pk])
    page = client.get(url).content.decode()
    assert "1 USD = 7.2 CNY" in page and "recycle bin" in page
    assert client.post(url).status_code == 302
    assert not ExchangeRate.objects.filter(pk=usd.pk).exists()
    assert ExchangeRate.all_objects.get(pk=usd.pk).deleted_by == people["admin"]
    # Gone from the pages too.
    assert client.get(url).status_code == 404
