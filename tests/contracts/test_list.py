"""The contract list: scope, search, filters, sort, columns, saved views, the empty state and a
constant number of queries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.contracts import records
from tuoke.contracts.models import Contract


@pytest.fixture
def customer(rep_east):
    return records.customer(rep_east, "东方电子")


@pytest.fixture
def east(rep_east, people, customer):
    """Three contracts of rep_east1 (one draft, one ending soon, one paid in part) and one of
    rep_east2, all in 华东."""
    today = timezone.localdate()
    other = records.customer(rep_east, "西部机械")
    made = {
        "draft": records.contract(
            rep_east, customer, number="HT-A-001", title="草稿合同", amount="50000", status="draft"
        ),
        "ending": records.contract(
            rep_east,
            other,
            number="HT-A-002",
            title="即将到期",
            amount="300000",
            ends_on=today + timedelta(days=20),
        ),
        "paid": records.contract(
            rep_east,
            customer,
            number="HT-A-003",
            title="部分回款",
            amount="200000",
            ends_on=today + timedelta(days=200),
        ),
        "teammate": records.contract(
            people["rep_east2"],
            records.customer(people["rep_east2"], "北方重工"),
            number="HT-B-001",
            title="同事的合同",
            amount="10000",
        ),
    }
    records.payment(made["paid"], amount="150000", by=people["finance1"])
    return made


def _shown(client, **params) -> list[str]:
    response = client.get(reverse("contracts:contract_list"), {"view": "all", **params})
    assert response.status_code == 200
    return [row["contract"].number for row in response.context["rows"]]


def test_it_lists_only_the_contracts_in_scope(login, people, rep_east, east):
    south = records.south_contract(people)
    mine = set(_shown(login(rep_east)))
    assert mine == {"HT-A-001", "HT-A-002", "HT-A-003"}
    team = set(_shown(login(people["manager_east"])))
    assert team == {"HT-A-001", "HT-A-002", "HT-A-003", "HT-B-001"}
    assert south.number in _shown(login(people["finance1"]))
    assert south.number not in team


def test_it_searches_and_filters(login, people, rep_east, east, customer):
    client = login(people["manager_east"])
    today = timezone.localdate()
    assert _shown(client, q="HT-A-002") == ["HT-A-002"]
    assert _shown(client, q="部分") == ["HT-A-003"]
    assert set(_shown(client, q="西部")) == {"HT-A-002"}
    assert _shown(client, status="draft") == ["HT-A-001"]
    assert set(_shown(client, owner=people["rep_east2"].pk)) == {"HT-B-001"}
    assert set(_shown(client, customer=customer.pk)) == {"HT-A-001", "HT-A-003"}
    assert set(_shown(client, unit=rep_east.unit.pk)) >= {"HT-A-001"}
    soon = {
        "ends_after": today.isoformat(),
        "ends_before": (today + timedelta(days=60)).isoformat(),
    }
    assert _shown(client, **soon) == ["HT-A-002"]
    bad = client.get(reverse("contracts:contract_list"), {"ends_before": "not a date"})
    assert bad.status_code == 400
    assert 'data-field-error="ends_before"' in bad.content.decode()


def test_it_sorts_by_amount_received_outstanding_and_end(login, rep_east, east):
    client = login(rep_east)
    assert _shown(client, sort="amount") == ["HT-A-001", "HT-A-003", "HT-A-002"]
    assert _shown(client, sort="-received")[0] == "HT-A-003"
    # Outstanding: 300,000 open, then 50,000 (a draft), then 50,000 left of 200,000.
    assert _shown(client, sort="-outstanding")[0] == "HT-A-002"
    # Ends in 20 days, in 200, and the draft's (made with a year's term) in 335.
    assert _shown(client, sort="ends") == ["HT-A-002", "HT-A-003", "HT-A-001"]
    assert _shown(client, sort="number") == ["HT-A-001", "HT-A-002", "HT-A-003"]


def test_it_shows_amounts_as_money_and_the_chosen_columns(login, rep_east, east):
    client = login(rep_east)
    response = client.get(
        reverse("contracts:contract_list"),
        {"view": "all", "cols": "customer,amount,received,outstanding,unit", "sort": "number"},
    )
    body = response.content.decode()
    assert [c.key for c in response.context["columns"]] == [
        "contract",
        "customer",
        "amount",
        "received",
        "outstanding",
        "unit",
    ]
    assert "¥200,000.00" in body and "¥150,000.00" in body and "¥50,000.00" in body
    assert 'data-label="Received"' in body  # cards on a phone name each value


def test_a_saved_view_keeps_the_filters_and_opens_the_list(login, rep_east, east):
    client = login(rep_east)
    response = client.post(
        reverse("contracts:saved_view_create"),
        {"name": "草稿", "query": "status=draft&sort=number", "make_default": "on"},
    )
    assert response.status_code == 302
    opened = client.get(reverse("contracts:contract_list"))
    assert opened.status_code == 302
    assert "status=draft" in opened["Location"]
    assert [r["contract"].number for r in client.get(opened["Location"]).context["rows"]] == [
        "HT-A-001"
    ]
    columns = client.post(
        reverse("contracts:list_columns"),
        {"columns": ["amount", "ends"], "query": "view=all"},
    )
    assert columns.status_code == 302
    listed = client.get(reverse("contracts:contract_list"), {"view": "all"})
    assert [c.key for c in listed.context["columns"]] == ["contract", "amount", "ends"]


def test_it_says_what_to_do_when_there_is_no_contract(login, rep_east):
    body = login(rep_east).get(reverse("contracts:contract_list")).content.decode()
    assert 'data-testid="empty-state"' in body
    assert "No contracts yet" in body
    assert reverse("sales:opportunity_list") + "?status=won" in body


def test_it_lists_in_a_constant_number_of_queries(
    login, people, rep_east, customer, django_assert_max_num_queries
):
    client = login(people["manager_east"])
    url = (
        reverse("contracts:contract_list") + "?cols=customer,amount,received,owner,unit,opportunity"
    )
    records.contract(rep_east, customer, number="HT-Q-000")
    with django_assert_max_num_queries(30) as few:
        client.get(url)
    for n in range(1, 12):
        records.contract(rep_east, customer, number=f"HT-Q-{n:03d}", amount=str(1000 * n))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert len(response.context["rows"]) == 12
    assert Contract.objects.filter(number__startswith="HT-Q").count() == 12
    assert response.context["page_obj"].paginator.count == 12
    assert Decimal("11000") in [r["contract"].amount for r in response.context["rows"]]


def test_a_manager_hands_contracts_over_after_a_confirmation(login, people, rep_east, east):
    client = login(people["manager_east"])
    listed = client.get(reverse("contracts:contract_list"), {"view": "all"})
    assert 'data-testid="bulk-bar"' in listed.content.decode()
    ids = [east["draft"].pk, east["ending"].pk]
    url = reverse("contracts:contract_bulk")
    asked = client.post(url, {"ids": ids, "to": people["rep_east2"].pk, "reason": "离职交接"})
    assert asked.status_code == 200
    assert len(asked.context["changeable"]) == 2
    assert Contract.objects.get(pk=ids[0]).owner == rep_east
    done = client.post(
        url,
        {"ids": ids, "to": people["rep_east2"].pk, "reason": "离职交接", "confirm": "1"},
    )
    assert done.status_code == 302
    assert set(Contract.objects.filter(pk__in=ids).values_list("owner", flat=True)) == {
        people["rep_east2"].pk
    }
    # Without a reason he is asked for one; a contract he may not see is a 404.
    missing = client.post(url, {"ids": ids, "to": rep_east.pk, "confirm": "1"})
    assert missing.status_code == 400
    assert missing.context["form"].errors["reason"]
    south = records.south_contract(people)
    assert client.post(url, {"ids": [south.pk], "to": rep_east.pk}).status_code == 404


def test_a_rep_may_not_hand_over_contracts(login, people, rep_east, east):
    client = login(rep_east)
    listed = client.get(reverse("contracts:contract_list"), {"view": "all"})
    assert 'data-testid="bulk-bar"' not in listed.content.decode()
    refused = client.post(
        reverse("contracts:contract_bulk"),
        {"ids": [east["draft"].pk], "to": people["rep_east2"].pk, "reason": "x", "confirm": "1"},
    )
    assert refused.status_code == 400
    assert Contract.objects.get(pk=east["draft"].pk).owner == rep_east
