"""Money: formatting in Chinese and English, conversion with the rate of the day, the rate
table reports use, and the audited exchange-rate writes."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.template import Context, Template
from django.utils import translation

from tuoke.core import money
from tuoke.core.errors import Conflict
from tuoke.core.models import AuditEntry, ExchangeRate

D = Decimal


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (D("1234567"), None, "¥1,234,567.00"),
        (D("1234567"), "CNY", "¥1,234,567.00"),
        (D("12000"), "USD", "US$12,000.00"),
        (D("99.5"), "EUR", "€99.50"),
        (D("1000"), "JPY", "JP¥1,000.00"),
        (D("1234.5"), "CHF", "CHF 1,234.50"),
        (D("1234.565"), "CNY", "¥1,234.57"),
        (D("0.005"), "CNY", "¥0.01"),
        (D("-5.5"), "CNY", "-¥5.50"),
        (D("0"), "HKD", "HK$0.00"),
        (1500, "GBP", "£1,500.00"),
        (None, "CNY", ""),
    ],
)
def test_it_formats_money_for_tables(amount, currency, shown):
    for language in ("zh-hans", "en"):
        with translation.override(language):
            assert money.format_money(amount, currency) == shown


@pytest.mark.parametrize(
    ("amount", "zh", "en"),
    [
        (D("1234567"), "¥123.5万", "¥1.23M"),
        (D("123456789"), "¥1.2亿", "¥123.46M"),
        (D("95000000"), "¥9500万", "¥95M"),
        (D("12345"), "¥1.2万", "¥12.3K"),
        (D("1235000"), "¥123.5万", "¥1.24M"),  # half up, never to even
        (D("99999999"), "¥1亿", "¥100M"),  # rounding carries into the next unit
        (D("999999"), "¥100万", "¥1M"),
        (D("4500000000"), "¥45亿", "¥4.5B"),
        (D("8500"), "¥8,500.00", "¥8,500.00"),
        (D("-1234567"), "-¥123.5万", "-¥1.23M"),
        (None, "", ""),
    ],
)
def test_it_formats_large_figures_per_language(amount, zh, en):
    with translation.override("zh-hans"):
        assert money.format_large(amount) == zh
    with translation.override("en"):
        assert money.format_large(amount) == en


def test_it_shows_the_currency_symbol_on_large_figures():
    with translation.override("en"):
        assert money.format_large(D("2500000"), "USD") == "US$2.5M"
    with translation.override("zh-hans"):
        assert money.format_large(D("2500000"), "USD") == "US$250万"


def test_it_offers_template_filters():
    template = Template(
        "{% load money %}{{ a|money:'USD' }}|{{ a|money }}|{{ a|money_large }}|{{ n|money }}"
    )
    with translation.override("en"):
        shown = template.render(Context({"a": D("1234567"), "n": None}))
    assert shown == "US$1,234,567.00|¥1,234,567.00|¥1.23M|"


def test_it_reads_the_reporting_currency_from_the_settings(settings):
    assert money.reporting_currency() == "CNY"
    settings.REPORTING_CURRENCY = "USD"
    assert money.reporting_currency() == "USD"
    assert money.format_money(D("5")) == "US$5.00"


@pytest.fixture
def rates(people):
    finance = people["finance1"]
    made = {}
    for currency, day, rate in [
        ("USD", date(2026, 1, 1), "7.10"),
        ("USD", date(2026, 3, 1), "7.20"),
        ("USD", date(2026, 6, 1), "7.05"),
        ("EUR", date(2026, 2, 1), "7.80"),
    ]:
        made[(currency, day)] = money.create_rate(
            currency=currency, valid_on=day, rate=D(rate), by=finance
        )
    return made


def test_it_converts_with_the_rate_valid_on_the_day(rates):
    assert money.rate_on("USD", date(2026, 1, 1)) == D("7.10")
    assert money.rate_on("USD", date(2026, 2, 28)) == D("7.10")
    assert money.rate_on("USD", date(2026, 3, 1)) == D("7.20")
    assert money.rate_on("USD", date(2027, 1, 1)) == D("7.05")
    assert money.rate_on("USD", date(2025, 12, 31)) is None
    assert money.rate_on("CNY", date(2000, 1, 1)) == 1
    assert money.to_reporting(D("1000"), "USD", on=date(2026, 4, 1)) == D("7200.00")
    assert money.convert(D("100"), "CNY", on=date(2026, 4, 1)) == D("100")
    # Between two foreign currencies through the reporting one: 100 EUR = 780 CNY = 108.33 USD.
    assert money.convert(D("100"), "EUR", on=date(2026, 4, 1), to="USD") == D("108.33")
    assert money.convert(D("720"), "CNY", on=date(2026, 4, 1), to="USD") == D("100.00")


def test_it_rounds_conversions_half_up(people):
    money.create_rate(currency="USD", valid_on=date(2026, 1, 1), rate="7.125", by=None)
    # 0.01 × 7.125 = 0.07125 → 0.07; 0.02 × 7.125 = 0.1425 → 0.14; 0.2 × 7.125 = 1.425 → 1.43
    assert money.to_reporting(D("0.20"), "USD", on=date(2026, 1, 2)) == D("1.43")
    assert money.to_reporting(D("0.02"), "USD", on=date(2026, 1, 2)) == D("0.14")


def test_it_refuses_to_convert_without_a_rate(rates):
    with pytest.raises(money.MissingRate) as caught:
        money.to_reporting(D("1"), "GBP", on=date(2026, 4, 1))
    assert isinstance(caught.value, ValidationError)
    assert caught.value.error_dict["currency"][0].code == "missing_rate"
    with pytest.raises(money.MissingRate):
        money.to_reporting(D("1"), "USD", on=date(2025, 12, 31))


def test_it_forgets_deleted_rates(rates, people):
    money.delete_rate(rates[("USD", date(2026, 3, 1))], by=people["finance1"])
    assert money.rate_on("USD", date(2026, 4, 1)) == D("7.10")
    table = money.RateTable(["USD"], until=date(2026, 12, 31))
    assert table.rate("USD", date(2026, 4, 1)) == D("7.10")


def test_it_converts_in_the_rate_table_as_convert_does(rates, django_assert_num_queries):
    days = [date(2026, 1, 1), date(2026, 2, 15), date(2026, 3, 1), date(2026, 5, 31)]
    days += [date(2026, 6, 1), date(2026, 12, 31)]
    amounts = [D("0.20"), D("1234.56"), D("99999.99")]
    with django_assert_num_queries(1):
        table = money.RateTable(["USD", "EUR", "CNY"], until=date(2026, 12, 31))
    with django_assert_num_queries(0):
        converted = {
            (a, c, d): table.to_reporting(a, c, d)
            for a in amounts
            for c in ("USD", "EUR", "CNY")
            for d in days
        }
    for (amount, currency, day), value in converted.items():
        if currency == "EUR" and day < date(2026, 2, 1):
            assert value is None
            continue
        assert value == money.to_reporting(amount, currency, on=day), (amount, currency, day)
    assert table.missing == {"EUR"}


def test_it_loads_nothing_for_the_reporting_currency_alone(people, django_assert_num_queries):
    with django_assert_num_queries(0):
        table = money.RateTable(["CNY"], until=date(2026, 1, 1))
        assert table.to_reporting(D("5"), "CNY", date(2026, 1, 1)) == D("5")
    assert table.missing == set()


def test_it_validates_rates(people):
    finance = people["finance1"]
    day = date(2026, 1, 1)
    cases = [
        ({"currency": "us", "rate": "7"}, "currency", "invalid"),
        ({"currency": "USDX", "rate": "7"}, "currency", "invalid"),
        ({"currency": "", "rate": "7"}, "currency", "required"),
        ({"currency": "CNY", "rate": "7"}, "currency", "reporting_currency"),
        ({"currency": "USD", "rate": "0"}, "rate", "invalid"),
        ({"currency": "USD", "rate": "-1"}, "rate", "invalid"),
        ({"currency": "USD", "rate": "abc"}, "rate", "invalid"),
        ({"currency": "USD", "rate": "1.123456789"}, "rate", "invalid"),
        ({"currency": "USD", "rate": ""}, "rate", "required"),
    ]
    for facts, field, code in cases:
        with pytest.raises(ValidationError) as caught:
            money.create_rate(valid_on=day, by=finance, **facts)
        assert caught.value.error_dict[field][0].code == code, facts
    # Lower case is taken as the code it means.
    assert money.create_rate(currency="usd", valid_on=day, rate="7", by=finance).currency == "USD"


def test_it_keeps_one_rate_per_currency_and_day(people):
    finance = people["finance1"]
    first = money.create_rate(currency="USD", valid_on=date(2026, 1, 1), rate="7.1", by=finance)
    with pytest.raises(ValidationError) as caught:
        money.create_rate(currency="USD", valid_on=date(2026, 1, 1), rate="7.2", by=finance)
    assert caught.value.error_dict["valid_on"][0].code == "duplicate"
    other = money.create_rate(currency="USD", valid_on=date(2026, 2, 1), rate="7.2", by=finance)
    with pytest.raises(ValidationError):
        money.update_rate(other, by=finance, valid_on=date(2026, 1, 1))
    # set_rate changes the day's rate instead of adding one.
    same = money.set_rate(currency="USD", valid_on=date(2026, 1, 1), rate="7.15", by=finance)
    assert same.pk == first.pk and same.rate == D("7.15")
    # A deleted rate does not take its day; it cannot come back while another has it.
    money.delete_rate(first, by=finance)
    again = money.create_rate(currency="USD", valid_on=date(2026, 1, 1), rate="7.3", by=finance)
    first.refresh_from_db()
    with pytest.raises(ValidationError):
        money.restore_rate(first, by=finance)
    money.delete_rate(again, by=finance)
    money.restore_rate(first, by=finance)
    assert money.rate_on("USD", date(2026, 1, 1)) == D("7.15")


def test_it_audits_rate_changes_and_checks_versions(people):
    finance = people["finance1"]
    rate = money.create_rate(currency="USD", valid_on=date(2026, 1, 1), rate="7.1", by=finance)
    money.update_rate(rate, by=finance, version=1, rate="7.2", note="央行中间价")
    with pytest.raises(Conflict):
        money.update_rate(rate, by=finance, version=1, rate="7.3")
    kinds = list(
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(ExchangeRate), object_id=rate.pk
        )
        .order_by("pk")
        .values_list("kind", flat=True)
    )
    assert kinds == ["create", "update"]
    assert ExchangeRate.objects.get(pk=rate.pk).rate == D("7.2")


def test_it_lets_only_finance_and_administrators_change_rates(people):
    with pytest.raises(PermissionDenied):
        money.create_rate(
            currency="USD", valid_on=date(2026, 1, 1), rate="7", by=people["rep_east1"]
        )
    rate = money.create_rate(
        currency="USD", valid_on=date(2026, 1, 1), rate="7", by=people["admin"]
    )
    for user in ("boss", "manager_east", "rep_east1"):
        with pytest.raises(PermissionDenied):
            money.delete_rate(rate, by=people[user])
