"""Receivables ageing, contracts ending soon and renewal figures against a hand count.

The receivables book on 2026-06-30 (USD at 7.20 since 2026-06-15):

rep_east1 (华东)
  HT-E1-001 ¥100,000: 03-01 ¥40,000 (paid 25,000 → ¥15,000, 121 days: >90),
            05-15 ¥30,000 (46 days: 31–90), 07-31 ¥30,000 (not due)            → ¥75,000
  HT-E1-002 ¥50,000: 06-10 ¥20,000 (20 days: 1–30), ¥30,000 unplanned (not due) → ¥50,000
  HT-E1-003 paid in full; HT-E1-004 a draft; HT-E1-005 terminated                → —
rep_east2 (华东)
  HT-E2-001 US$10,000: 03-31 US$6,000 paid, 06-01 US$4,000 (29 days: 1–30)       → ¥28,800
  HT-E2-002 ¥30,000: 06-30 (0 days: not due), 05-31 (30 days: 1–30),
            04-01 (90 days: 31–90), ¥10,000 each                                 → ¥30,000
rep_south1 (华南)
  HT-S1-001 ¥200,000: 01-01 ¥200,000, ¥50,000 paid (+¥20,000 unconfirmed): >90  → ¥150,000
  HT-S1-002 ¥40,000 completed, no plan, ¥10,000 received: not due                → ¥30,000

                 not due    1–30     31–90    >90       total
rep_east1         60,000   20,000   30,000    15,000   125,000
rep_east2         10,000   38,800   10,000         0    58,800
rep_south1        30,000        0        0   150,000   180,000
all              100,000   58,800   40,000   165,000   363,800
"""

from datetime import date
from decimal import Decimal

import pytest

from tests.contracts import records
from tuoke.contracts import queries
from tuoke.contracts.models import Contract, ContractSettings
from tuoke.core import money
from tuoke.core.services import soft_delete

D = Decimal
AS_OF = date(2026, 6, 30)
FAR = date(2027, 12, 31)


def _rates(people):
    finance = people["finance1"]
    money.set_rate(currency="USD", valid_on=date(2026, 1, 1), rate="7.10", by=finance)
    money.set_rate(currency="USD", valid_on=date(2026, 6, 15), rate="7.20", by=finance)
    # After the day of the receivables report: never used for it.
    money.set_rate(currency="USD", valid_on=date(2026, 7, 1), rate="7.50", by=finance)


@pytest.fixture
def book(people):
    return build_book(people)


def build_book(people) -> dict[str, Contract]:
    """The receivables book of the module docstring (also used by the page tests)."""
    _rates(people)
    east1, east2, south1 = people["rep_east1"], people["rep_east2"], people["rep_south1"]
    finance = people["finance1"]
    c_east1 = records.customer(east1, "东方机械")
    c_east2 = records.customer(east2, "江南电气")
    c_south = records.customer(south1, "南方客户")

    def contract(owner, customer, number, amount, instalments=(), **facts):
        return records.contract(
            owner,
            customer,
            number=number,
            amount=amount,
            ends_on=FAR,
            instalments=list(instalments),
            **facts,
        )

    made = {
        "E1-001": contract(
            east1,
            c_east1,
            "HT-E1-001",
            "100000",
            [
                (date(2026, 3, 1), "40000"),
                (date(2026, 5, 15), "30000"),
                (date(2026, 7, 31), "30000"),
            ],
        ),
        "E1-002": contract(east1, c_east1, "HT-E1-002", "50000", [(date(2026, 6, 10), "20000")]),
        "E1-003": contract(east1, c_east1, "HT-E1-003", "80000", [(date(2026, 1, 10), "80000")]),
        "E1-004": contract(
            east1, c_east1, "HT-E1-004", "60000", [(date(2026, 1, 10), "60000")], status="draft"
        ),
        "E1-005": contract(
            east1,
            c_east1,
            "HT-E1-005",
            "70000",
            [(date(2026, 1, 10), "70000")],
            status="terminated",
        ),
        "E2-001": contract(
            east2,
            c_east2,
            "HT-E2-001",
            "10000",
            [(date(2026, 3, 31), "6000"), (date(2026, 6, 1), "4000")],
            currency="USD",
        ),
        "E2-002": contract(
            east2,
            c_east2,
            "HT-E2-002",
            "30000",
            [
                (date(2026, 6, 30), "10000"),
                (date(2026, 5, 31), "10000"),
                (date(2026, 4, 1), "10000"),
            ],
        ),
        "S1-001": contract(south1, c_south, "HT-S1-001", "200000", [(date(2026, 1, 1), "200000")]),
        "S1-002": contract(south1, c_south, "HT-S1-002", "40000", status="completed"),
    }
    records.payment(made["E1-001"], amount="25000", received_on=date(2026, 3, 5), by=finance)
    records.payment(made["E1-003"], amount="80000", received_on=date(2026, 1, 10), by=finance)
    records.payment(made["E2-001"], amount="6000", received_on=date(2026, 4, 2), by=finance)
    records.payment(made["S1-001"], amount="50000", received_on=date(2026, 2, 1), by=finance)
    records.payment(made["S1-001"], amount="20000", confirmed=False, by=south1)
    records.payment(made["S1-002"], amount="10000", received_on=date(2026, 5, 1), by=finance)
    return made


def _buckets(ageing) -> tuple[Decimal, ...]:
    return tuple(ageing.buckets[b] for b in queries.BUCKETS)


def _numbers(contracts) -> set[str]:
    return {c.number.removeprefix("HT-") for c in contracts}


def test_it_ages_the_receivables_the_boss_sees_as_counted_by_hand(people, book):
    report = queries.receivables(people["boss"], as_of=AS_OF)
    assert report.currency == "CNY"
    assert _buckets(report.total) == (D("100000"), D("58800"), D("40000"), D("165000"))
    assert report.total.total == D("363800")
    assert report.total.overdue == D("263800")
    assert report.total.contracts == 6
    per_rep = {a.owner.username: (_buckets(a), a.total, a.contracts) for a in report.by_owner}
    assert per_rep == {
        "rep_east1": ((D("60000"), D("20000"), D("30000"), D("15000")), D("125000"), 2),
        "rep_east2": ((D("10000"), D("38800"), D("10000"), D("0")), D("58800"), 2),
        "rep_south1": ((D("30000"), D("0"), D("0"), D("150000")), D("180000"), 2),
    }
    # Largest total first.
    assert [a.owner.username for a in report.by_owner] == ["rep_south1", "rep_east1", "rep_east2"]
    per_unit = {u.unit.name: (_buckets(u), u.total) for u in report.by_unit}
    assert per_unit == {
        "销售部": ((D("100000"), D("58800"), D("40000"), D("165000")), D("363800")),
        "华东销售组": ((D("70000"), D("58800"), D("40000"), D("15000")), D("183800")),
        "华南销售组": ((D("30000"), D("0"), D("0"), D("150000")), D("180000")),
    }
    assert report.missing_rates == set()


def test_its_drill_downs_list_exactly_the_contracts_of_each_figure(people, book):
    report = queries.receivables(people["boss"], as_of=AS_OF)
    assert _numbers(report.contracts) == {
        "E1-001",
        "E1-002",
        "E2-001",
        "E2-002",
        "S1-001",
        "S1-002",
    }
    assert _numbers(report.in_bucket("not_due")) == {"E1-001", "E1-002", "E2-002", "S1-002"}
    assert _numbers(report.in_bucket("1_30")) == {"E1-002", "E2-001", "E2-002"}
    assert _numbers(report.in_bucket("31_90")) == {"E1-001", "E2-002"}
    assert _numbers(report.in_bucket("over_90")) == {"E1-001", "S1-001"}
    # Each list's rows add up to its figure.
    for bucket in queries.BUCKETS:
        rows = report.rows(report.in_bucket(bucket))
        assert sum(r.reporting_buckets[bucket] for r in rows) == report.total.buckets[bucket]
    # A rep's figure: the same report narrowed to him.
    east2 = queries.receivables(people["boss"], as_of=AS_OF, owner=people["rep_east2"])
    assert _numbers(east2.in_bucket("1_30")) == {"E2-001", "E2-002"}
    assert _buckets(east2.total) == (D("10000"), D("38800"), D("10000"), D("0"))
    south = queries.receivables(people["boss"], as_of=AS_OF, unit=people["rep_south1"].unit)
    assert _numbers(south.contracts) == {"S1-001", "S1-002"}
    assert south.total.total == D("180000")


def test_it_gives_each_contract_its_ageing(people, book):
    report = queries.receivables(people["boss"], as_of=AS_OF)
    rows = {r.contract.number: r for r in report.rows(report.contracts)}
    first = rows["HT-E1-001"]
    assert _buckets(first) == (D("30000"), D("0"), D("30000"), D("15000"))
    assert first.outstanding == D("75000") and first.oldest_due_on == date(2026, 3, 1)
    assert first.days_overdue == 121
    usd = rows["HT-E2-001"]
    assert usd.buckets["1_30"] == D("4000") and usd.reporting_buckets["1_30"] == D("28800")
    assert usd.reporting_outstanding == D("28800") and usd.oldest_due_on == date(2026, 6, 1)
    assert rows["HT-S1-002"].buckets["not_due"] == D("30000")
    assert rows["HT-S1-002"].oldest_due_on is None


def test_it_orders_contracts_by_outstanding_or_oldest_overdue(people, book):
    report = queries.receivables(people["boss"], as_of=AS_OF)
    by_outstanding = [c.number for c in report.ordered(report.contracts)]
    # US$4,000 weighs as ¥28,800 (below ¥30,000).
    assert by_outstanding == [
        "HT-S1-001",
        "HT-E1-001",
        "HT-E1-002",
        *sorted(["HT-E2-002", "HT-S1-002"], key=lambda n: book[n[3:]].pk),
        "HT-E2-001",
    ]
    oldest = [c.number for c in report.ordered(report.contracts, "oldest")]
    assert oldest == [
        "HT-S1-001",
        "HT-E1-001",
        "HT-E2-002",
        "HT-E2-001",
        "HT-E1-002",
        "HT-S1-002",
    ]


def test_it_counts_only_what_each_person_sees(people, book):
    mine = queries.receivables(people["rep_east1"], as_of=AS_OF)
    assert mine.total.total == D("125000")
    assert [a.owner.username for a in mine.by_owner] == ["rep_east1"]
    assert _numbers(mine.contracts) == {"E1-001", "E1-002"}
    team = queries.receivables(people["manager_east"], as_of=AS_OF)
    assert team.total.total == D("183800")
    assert {a.owner.username for a in team.by_owner} == {"rep_east1", "rep_east2"}
    assert queries.receivables(people["director"], as_of=AS_OF).total.total == D("363800")
    assert queries.receivables(people["finance1"], as_of=AS_OF).total.total == D("363800")
    # A filter never widens the scope.
    other = queries.receivables(people["rep_east1"], as_of=AS_OF, owner=people["rep_south1"])
    assert other.total.total == 0 and not other.contracts.exists()
    assert queries.receivables(people["marketing1"], as_of=AS_OF).total.total == 0


def test_it_ages_the_same_book_differently_on_another_day(people, book):
    # On 2026-03-01 the first instalment of HT-E1-001 is due today, nothing is overdue there;
    # HT-S1-001's is 59 days late; USD converts at 7.10.
    report = queries.receivables(people["boss"], as_of=date(2026, 3, 1))
    per_rep = {a.owner.username: _buckets(a) for a in report.by_owner}
    assert per_rep["rep_east1"] == (D("125000"), D("0"), D("0"), D("0"))
    assert per_rep["rep_south1"] == (D("30000"), D("0"), D("150000"), D("0"))
    assert per_rep["rep_east2"] == (D("58400"), D("0"), D("0"), D("0"))  # 30,000 + 4,000 × 7.10


def test_it_leaves_out_currencies_without_a_rate_and_says_so(people, book):
    records.contract(
        people["rep_east1"],
        records.customer(people["rep_east1"], "东方机械"),
        number="HT-E1-EUR",
        amount="5000",
        currency="EUR",
        ends_on=FAR,
    )
    report = queries.receivables(people["boss"], as_of=AS_OF)
    assert report.missing_rates == {"EUR"}
    assert report.total.total == D("363800")
    [row] = report.rows(report.contracts.filter(currency="EUR"))
    assert row.outstanding == D("5000") and row.reporting_outstanding is None


def test_it_computes_the_receivables_in_a_few_queries(people, book, django_assert_num_queries):
    user = people["boss"]
    with django_assert_num_queries(10):
        # The grants, the fingerprints (directory and money), the rates of the currencies,
        # then the figures: instalments and contracts grouped, their rates, people, units.
        queries.receivables(user, as_of=AS_OF)
    # Shown again while nothing changed: the fingerprints and the rates of the page only.
    with django_assert_num_queries(3):
        report = queries.receivables(user, as_of=AS_OF)
    with django_assert_num_queries(3):  # the page, its instalments, the rates
        report.rows(list(report.ordered(report.contracts)[:25]))


def test_it_keeps_the_receivables_until_money_moves(people, book):
    user = people["boss"]
    before = queries.receivables(user, as_of=AS_OF).total.total
    contract = queries.awaiting_payment(user).order_by("pk").first()
    records.payment(contract, amount="1000", received_on=AS_OF, by=people["finance1"])
    after = queries.receivables(user, as_of=AS_OF).total.total
    assert after == before - Decimal("1000") * (
        queries.RateTable({contract.currency}, until=AS_OF).rate(contract.currency, AS_OF)
    )


# --- Renewals ------------------------------------------------------------------------------------


@pytest.fixture
def renewals(people):
    return build_renewals(people)


def build_renewals(people) -> dict[str, Contract]:
    """Contracts ending around the third quarter of 2026 and their renewals.

    due in [07-01, 09-30]     amount      renewal                 renewed?
    D1 rep_east1   07-15      ¥100,000    effective ¥120,000      yes
    D2 rep_east1   08-01      ¥50,000     draft ¥50,000           no (not yet)
    D3 rep_east2   09-30      ¥80,000     completed ¥90,000       yes
    D4 rep_east2   08-15      US$10,000   effective US$11,000     yes (¥75,000 → ¥82,500)
    D5 rep_south1  09-01      ¥200,000    —  (completed itself)   no
    D10 rep_east1  07-31      ¥40,000     terminated; a deleted effective one   no
    not due: D6 terminated (08-01), D7 ends 10-01, D8 ends 06-30.
    Amounts at the rates of the period's last day (09-30): USD 7.50 since 07-01.
    """
    _rates(people)
    east1, east2, south1 = people["rep_east1"], people["rep_east2"], people["rep_south1"]
    c_east1 = records.customer(east1, "东方机械")
    c_east2 = records.customer(east2, "江南电气")
    c_south = records.customer(south1, "南方客户")

    def contract(owner, customer, number, amount, ends_on, **facts):
        return records.contract(
            owner, customer, number=number, amount=amount, ends_on=ends_on, **facts
        )

    made = {
        "D1": contract(east1, c_east1, "HT-D1", "100000", date(2026, 7, 15)),
        "D2": contract(east1, c_east1, "HT-D2", "50000", date(2026, 8, 1)),
        "D3": contract(east2, c_east2, "HT-D3", "80000", date(2026, 9, 30)),
        "D4": contract(east2, c_east2, "HT-D4", "10000", date(2026, 8, 15), currency="USD"),
        "D5": contract(south1, c_south, "HT-D5", "200000", date(2026, 9, 1), status="completed"),
        "D6": contract(east1, c_east1, "HT-D6", "30000", date(2026, 8, 1), status="terminated"),
        "D7": contract(east1, c_east1, "HT-D7", "30000", date(2026, 10, 1)),
        "D8": contract(east1, c_east1, "HT-D8", "30000", date(2026, 6, 30)),
        "D10": contract(east1, c_east1, "HT-D10", "40000", date(2026, 7, 31)),
    }
    renewal = date(2027, 7, 15)
    made["R1"] = contract(east1, c_east1, "HT-R1", "120000", renewal, renews=made["D1"])
    made["R2"] = contract(
        east1, c_east1, "HT-R2", "50000", renewal, renews=made["D2"], status="draft"
    )
    made["R3"] = contract(
        east2, c_east2, "HT-R3", "90000", renewal, renews=made["D3"], status="completed"
    )
    made["R4"] = contract(
        east2, c_east2, "HT-R4", "11000", renewal, renews=made["D4"], currency="USD"
    )
    made["R10"] = contract(
        east1, c_east1, "HT-R10", "40000", renewal, renews=made["D10"], status="terminated"
    )
    made["R10b"] = contract(east1, c_east1, "HT-R10B", "40000", renewal, renews=made["D10"])
    soft_delete(made["R10b"], by=east1)
    return made


Q3 = {"start": date(2026, 7, 1), "end": date(2026, 9, 30)}


def test_it_counts_the_renewals_of_a_period_as_counted_by_hand(people, renewals):
    figures = queries.renewal_figures(people["boss"], **Q3)
    assert figures.due_count == 6
    assert figures.renewed_count == 3 and figures.not_renewed_count == 3
    assert figures.rate_by_count == D("0.5")
    assert figures.due_amount == D("545000")
    assert figures.renewed_amount == D("255000")
    assert figures.rate_by_amount == D("0.4679")  # 255,000 / 545,000 = 0.46788…
    assert figures.renewal_amount == D("292500")
    assert _numbers(figures.due) == {"D1", "D2", "D3", "D4", "D5", "D10"}
    assert _numbers(figures.renewed()) == {"D1", "D3", "D4"}
    assert _numbers(figures.not_renewed()) == {"D2", "D5", "D10"}
    assert _numbers(figures.renewals()) == {"R1", "R3", "R4"}


def test_it_counts_renewals_within_the_scope_and_filters(people, renewals):
    mine = queries.renewal_figures(people["rep_east1"], **Q3)
    assert (mine.due_count, mine.renewed_count) == (3, 1)
    assert mine.rate_by_count == D("0.3333")
    assert (mine.due_amount, mine.renewed_amount) == (D("190000"), D("100000"))
    assert mine.rate_by_amount == D("0.5263")
    assert mine.renewal_amount == D("120000")
    team = queries.renewal_figures(people["manager_east"], **Q3)
    assert (team.due_count, team.renewed_count, team.rate_by_count) == (5, 3, D("0.6"))
    assert (team.due_amount, team.renewal_amount) == (D("345000"), D("292500"))
    assert team.rate_by_amount == D("0.7391")  # 255,000 / 345,000 = 0.73913…
    south = queries.renewal_figures(people["boss"], unit=people["rep_south1"].unit, **Q3)
    assert (south.due_count, south.renewed_count, south.rate_by_count) == (1, 0, D("0"))
    east2 = queries.renewal_figures(people["boss"], owner=people["rep_east2"], **Q3)
    assert _numbers(east2.due) == {"D3", "D4"} and east2.rate_by_count == 1
    empty = queries.renewal_figures(people["boss"], start=date(2030, 1, 1), end=date(2030, 3, 31))
    assert empty.due_count == 0 and empty.rate_by_count is None and empty.rate_by_amount is None


def test_it_computes_renewal_figures_in_a_few_queries(people, renewals, django_assert_num_queries):
    queries.renewal_figures(people["boss"], **Q3)
    with django_assert_num_queries(3):
        queries.renewal_figures(people["boss"], **Q3)


def test_it_lists_contracts_ending_soon_without_a_live_renewal(people, renewals):
    # As of 2026-07-20 with 60 days: D2 (08-01) has a draft renewal, D4 and D3 renewals
    # in force; D10 (07-31) only a terminated one; D5 is completed; D7 ends 10-01 (73 days).
    soon = queries.ending_soon(people["boss"], days=60, as_of=date(2026, 7, 20))
    assert [c.number for c in soon] == ["HT-D10"]
    longer = queries.ending_soon(people["boss"], days=73, as_of=date(2026, 7, 20))
    assert [c.number for c in longer] == ["HT-D10", "HT-D7"]
    # Both ends included: on 07-15 D1 ends today but is renewed; D10 is 16 days away.
    assert [
        c.number for c in queries.ending_soon(people["boss"], days=16, as_of=date(2026, 7, 15))
    ] == ["HT-D10"]
    assert not queries.ending_soon(people["boss"], days=15, as_of=date(2026, 7, 15)).exists()


def test_it_reads_the_renewal_horizon_from_the_settings(people, renewals):
    settings = ContractSettings.current()
    settings.renewal_horizon_days = 11
    settings.save()
    assert [c.number for c in queries.ending_soon(people["boss"], as_of=date(2026, 7, 20))] == [
        "HT-D10"
    ]
    settings.renewal_horizon_days = 10
    settings.save()
    assert not queries.ending_soon(people["boss"], as_of=date(2026, 7, 20)).exists()


def test_it_lists_ending_contracts_within_the_scope(people, renewals):
    south = records.contract(
        people["rep_south1"],
        records.customer(people["rep_south1"], "南方客户"),
        number="HT-D11",
        ends_on=date(2026, 8, 10),
    )
    day = date(2026, 7, 20)
    assert [c.number for c in queries.ending_soon(people["boss"], days=30, as_of=day)] == [
        "HT-D10",
        "HT-D11",
    ]
    assert [c.number for c in queries.ending_soon(people["rep_east1"], days=30, as_of=day)] == [
        "HT-D10"
    ]
    assert list(queries.ending_soon(people["manager_south"], days=30, as_of=day)) == [south]
    narrowed = queries.ending_soon(people["boss"], days=30, as_of=day, owner=people["rep_south1"])
    assert list(narrowed) == [south]
    assert Contract.objects.filter(number="HT-D11").exists()
