"""The receivables and renewals pages: the hand-counted figures of test_queries on screen,
each linking to exactly the contracts it counts, within the viewer's scope, in a constant
number of queries."""

import re
from datetime import date, timedelta
from html import unescape

import pytest
import time_machine
from django.urls import reverse

from tests.contracts import records
from tests.contracts.test_queries import FAR, build_book, build_renewals
from tuoke.contracts.models import Contract, ContractSettings

RECEIVABLES = reverse("contracts:receivables")
RENEWALS = reverse("contracts:renewals")
AS_OF = "2026-06-30"


@pytest.fixture
def book(people):
    return build_book(people)


@pytest.fixture
def renewals(people):
    return build_renewals(people)


def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _link(html: str, testid: str, **attrs: str) -> str:
    """The href of the first link with this data-testid (and attributes)."""
    extra = "".join(rf'[^>]*{k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    pattern = rf'<a[^>]*href="([^"]+)"[^>]*data-testid="{testid}"{extra}'
    found = re.search(pattern, html)
    assert found, (testid, attrs)
    return unescape(found.group(1))


def _figure(html: str, testid: str, **attrs: str) -> str:
    extra = "".join(rf'[^>]*{k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    found = re.search(rf'data-testid="{testid}"{extra}[^>]*>([^<]+)<', html)
    assert found, (testid, attrs)
    return found.group(1).strip()


def _rows(html: str, testid: str) -> set[str]:
    return set(re.findall(rf'data-testid="{testid}" data-number="([^"]+)"', html))


def test_it_shows_the_boss_the_bucket_totals_counted_by_hand(login, people, book):
    html = _html(login(people["boss"]).get(RECEIVABLES, {"as_of": AS_OF}))
    assert _figure(html, "figure-total") == "¥363,800.00"
    shown = {b: _figure(html, "figure-bucket", bucket=b) for b in ("not_due", "1_30", "31_90")}
    shown["over_90"] = _figure(html, "figure-bucket", bucket="over_90")
    assert shown == {
        "not_due": "¥100,000.00",
        "1_30": "¥58,800.00",
        "31_90": "¥40,000.00",
        "over_90": "¥165,000.00",
    }
    assert 'data-testid="ageing-chart"' in html and 'id="ageing-data"' in html
    assert _rows(html, "receivable-row") == {
        "HT-E1-001",
        "HT-E1-002",
        "HT-E2-001",
        "HT-E2-002",
        "HT-S1-001",
        "HT-S1-002",
    }
    assert 'data-name="rep_south1"' in html and 'data-name="华东销售组"' in html
    assert "How these figures are counted" in html


def test_each_figure_links_to_exactly_its_contracts(login, people, book):
    client = login(people["boss"])
    html = _html(client.get(RECEIVABLES, {"as_of": AS_OF}))
    expected = {
        "not_due": {"HT-E1-001", "HT-E1-002", "HT-E2-002", "HT-S1-002"},
        "1_30": {"HT-E1-002", "HT-E2-001", "HT-E2-002"},
        "31_90": {"HT-E1-001", "HT-E2-002"},
        "over_90": {"HT-E1-001", "HT-S1-001"},
    }
    for bucket, numbers in expected.items():
        url = _link(html, "figure-bucket", bucket=bucket)
        assert f"bucket={bucket}" in url and "as_of=2026-06-30" in url
        listed = _html(client.get(RECEIVABLES + url.split("#")[0]))
        assert _rows(listed, "receivable-row") == numbers, bucket
    # A rep's 1–30 figure (¥38,800 of rep_east2).
    owner = people["rep_east2"].pk
    listed = _html(client.get(RECEIVABLES, {"as_of": AS_OF, "owner": owner, "bucket": "1_30"}))
    assert _rows(listed, "receivable-row") == {"HT-E2-001", "HT-E2-002"}
    assert _figure(listed, "figure-bucket", bucket="1_30") == "¥38,800.00"
    # A unit's total (华南: ¥180,000).
    unit = people["rep_south1"].unit_id
    listed = _html(client.get(RECEIVABLES, {"as_of": AS_OF, "unit": unit}))
    assert _rows(listed, "receivable-row") == {"HT-S1-001", "HT-S1-002"}
    assert _figure(listed, "figure-total") == "¥180,000.00"


def test_the_per_rep_table_links_carry_the_rep_and_bucket(login, people, book):
    html = _html(login(people["boss"]).get(RECEIVABLES, {"as_of": AS_OF}))
    row = re.search(r'data-testid="owner-row" data-name="rep_east2">(.*?)</tr>', html, re.S)
    assert row
    cells = re.findall(r'href="([^"]+)" data-testid="group-figure">([^<]+)<', row.group(1))
    shown = {unescape(url).split("bucket=")[1].split("&")[0].split("#")[0]: v for url, v in cells}
    assert shown == {"not_due": "¥10,000.00", "1_30": "¥38,800.00", "31_90": "¥10,000.00"}
    assert all(f"owner={people['rep_east2'].pk}" in unescape(url) for url, _v in cells)


def test_it_shows_each_person_only_his_scope(login, people, book):
    html = _html(login(people["rep_east1"]).get(RECEIVABLES, {"as_of": AS_OF}))
    assert _figure(html, "figure-total") == "¥125,000.00"
    assert _rows(html, "receivable-row") == {"HT-E1-001", "HT-E1-002"}
    assert "rep_south1" not in html and "HT-S1" not in html
    # Asking for someone else's contracts shows nothing of them.
    south = people["rep_south1"]
    html = _html(login(people["rep_east1"]).get(RECEIVABLES, {"as_of": AS_OF, "owner": south.pk}))
    assert "HT-S1" not in html
    html = _html(login(people["manager_east"]).get(RECEIVABLES, {"as_of": AS_OF}))
    assert _figure(html, "figure-total") == "¥183,800.00"
    assert login(people["marketing1"]).get(RECEIVABLES).status_code == 403


def test_it_orders_by_outstanding_or_by_the_oldest_overdue(login, people, book):
    client = login(people["boss"])
    html = _html(client.get(RECEIVABLES, {"as_of": AS_OF, "order": "oldest"}))
    numbers = re.findall(r'data-testid="receivable-row" data-number="([^"]+)"', html)
    assert numbers[:3] == ["HT-S1-001", "HT-E1-001", "HT-E2-002"]
    html = _html(client.get(RECEIVABLES, {"as_of": AS_OF}))
    numbers = re.findall(r'data-testid="receivable-row" data-number="([^"]+)"', html)
    assert numbers[:3] == ["HT-S1-001", "HT-E1-001", "HT-E1-002"]
    assert numbers[-1] == "HT-E2-001"


def test_it_warns_of_a_currency_without_a_rate(login, people, book):
    records.contract(
        people["rep_east1"],
        records.customer(people["rep_east1"], "东方机械"),
        number="HT-E1-EUR",
        amount="5000",
        currency="EUR",
        ends_on=FAR,
    )
    html = _html(login(people["boss"]).get(RECEIVABLES, {"as_of": AS_OF}))
    assert 'data-testid="missing-rates"' in html and "EUR" in html
    assert _figure(html, "figure-total") == "¥363,800.00"


def test_the_receivables_page_costs_a_constant_number_of_queries(
    login, people, book, django_assert_max_num_queries
):
    client = login(people["boss"])
    client.get(RECEIVABLES, {"as_of": AS_OF})
    customer = records.customer(people["rep_east1"], "东方机械")
    for n in range(30):
        records.contract(
            people["rep_east1"],
            customer,
            number=f"HT-MORE-{n:03}",
            amount="1000",
            ends_on=FAR,
            instalments=[(date(2026, 5, 1), "500"), (date(2026, 8, 1), "500")],
        )
    with django_assert_max_num_queries(22):
        html = _html(client.get(RECEIVABLES, {"as_of": AS_OF}))
    assert html.count('data-testid="receivable-row"') == 25


# --- Renewals ------------------------------------------------------------------------------------


def test_it_shows_the_renewal_figures_of_a_quarter_as_counted_by_hand(login, people, renewals):
    client = login(people["boss"])
    with time_machine.travel(date(2026, 7, 20), tick=False):
        html = _html(client.get(RENEWALS, {"period": "quarter", "day": "2026-08-01"}))
    assert "2026 Q3" in html
    assert _figure(html, "figure-due") == "6"
    assert _figure(html, "figure-renewed") == "3"
    assert _figure(html, "figure-not-renewed") == "3"
    assert _figure(html, "figure-rate-count") == "50.0%"
    assert _figure(html, "figure-rate-amount") == "46.8%"
    assert "¥292,500.00" in html and "¥545,000.00" in html
    expected = {
        "figure-due": {"HT-D1", "HT-D2", "HT-D3", "HT-D4", "HT-D5", "HT-D10"},
        "figure-renewed": {"HT-D1", "HT-D3", "HT-D4"},
        "figure-not-renewed": {"HT-D2", "HT-D5", "HT-D10"},
        "figure-renewal-amount": {"HT-R1", "HT-R3", "HT-R4"},
    }
    for testid, numbers in expected.items():
        url = _link(html, testid).split("#")[0]
        with time_machine.travel(date(2026, 7, 20), tick=False):
            listed = _html(client.get(RENEWALS + url))
        assert _rows(listed, "renewal-row") == numbers, testid


def test_it_lists_contracts_ending_soon_with_a_renew_button(login, people, renewals):
    with time_machine.travel(date(2026, 7, 20), tick=False):
        html = _html(login(people["rep_east1"]).get(RENEWALS, {"days": 73}))
        assert _rows(html, "ending-row") == {"HT-D10", "HT-D7"}
        renew = reverse("contracts:contract_renew", args=[renewals["D10"].pk])
        assert f'action="{renew}"' in html and 'data-testid="renew"' in html
        # The horizon of the settings by default (60 days: D7 is 73 days away).
        html = _html(login(people["rep_east1"]).get(RENEWALS))
        assert _rows(html, "ending-row") == {"HT-D10"}
        settings = ContractSettings.current()
        settings.renewal_horizon_days = 5
        settings.save()
        html = _html(login(people["rep_east1"]).get(RENEWALS))
        assert _rows(html, "ending-row") == set() and 'data-testid="empty-state"' in html
        # Finance reads them but does not renew.
        html = _html(login(people["finance1"]).get(RENEWALS, {"days": 73}))
        assert _rows(html, "ending-row") == {"HT-D10", "HT-D7"}
        assert 'data-testid="renew"' not in html


def test_the_renewals_page_keeps_to_the_scope(login, people, renewals):
    with time_machine.travel(date(2026, 7, 20), tick=False):
        html = _html(login(people["rep_east1"]).get(RENEWALS, {"day": "2026-08-01", "show": "due"}))
        assert _figure(html, "figure-due") == "3"
        assert _rows(html, "renewal-row") == {"HT-D1", "HT-D2", "HT-D10"}
        html = _html(login(people["manager_east"]).get(RENEWALS, {"day": "2026-08-01"}))
        assert _figure(html, "figure-due") == "5"
        assert _figure(html, "figure-rate-count") == "60.0%"


def test_it_moves_between_periods(login, people, renewals):
    client = login(people["boss"])
    with time_machine.travel(date(2026, 7, 20), tick=False):
        html = _html(client.get(RENEWALS, {"period": "month"}))
        assert "2026-07" in html
        assert _figure(html, "figure-due") == "2"  # D1 (07-15) and D10 (07-31)
        html = _html(client.get(RENEWALS + _link(html, "period-next")))
        assert "2026-08" in html
        assert _figure(html, "figure-due") == "2"  # D2 and D4 (D6 is terminated)
        html = _html(client.get(RENEWALS, {"period": "year"}))
        assert _figure(html, "figure-due") == "8"  # the six of Q3, D8 (06-30) and D7 (10-01)


def test_the_renewals_page_costs_a_constant_number_of_queries(
    login, people, renewals, django_assert_max_num_queries
):
    client = login(people["boss"])
    params = {"day": "2026-08-01", "show": "due", "days": 365}
    with time_machine.travel(date(2026, 6, 1), tick=False):
        client.get(RENEWALS, params)
        customer = records.customer(people["rep_east1"], "东方机械")
        for n in range(30):
            records.contract(
                people["rep_east1"],
                customer,
                number=f"HT-END-{n:03}",
                ends_on=date(2026, 7, 1) + timedelta(days=n),
            )
        with django_assert_max_num_queries(22):
            html = _html(client.get(RENEWALS, params))
    assert html.count('data-testid="ending-row"') == 25
    assert html.count('data-testid="renewal-row"') == 25
    assert Contract.objects.filter(number__startswith="HT-END-").count() == 30
