"""The "close soon" ranking: the stage-based default, its reasons, and a replacement ranker
chosen by setting (as a learned model will be)."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from tuoke.sales import ranking

NOW = timezone.make_aware(datetime(2026, 11, 24, 10, 0))


def _opp(pk, *, probability=50, idle_days=0, close_in=None, amount=None, stage="方案报价"):
    """A stand-in for an opportunity: the ranker reads only these attributes."""
    return SimpleNamespace(
        pk=pk,
        stage=SimpleNamespace(name=stage, probability=probability),
        last_activity_at=NOW - timedelta(days=idle_days),
        stage_entered_at=NOW - timedelta(days=60),
        expected_close_date=None if close_in is None else date(2026, 11, 24) + timedelta(close_in),
        amount=None if amount is None else Decimal(amount),
    )


def test_the_score_multiplies_probability_recency_and_closeness():
    ranker = ranking.StageRanker()
    [fresh] = ranker.rank([_opp(1, probability=80, idle_days=0, close_in=5)], now=NOW)
    assert fresh.score == 80  # 0.8 × 1 × 1
    assert fresh.reasons == ["stage 方案报价 80%", "active today", "expected to close in 5 days"]
    [idle] = ranker.rank([_opp(2, probability=80, idle_days=14, close_in=37)], now=NOW)
    assert idle.score == 20  # 0.8 × 0.5 × 0.5
    assert idle.reasons[1:] == ["active 14 days ago", "expected to close in 37 days"]


def test_overdue_and_missing_close_dates():
    ranker = ranking.StageRanker()
    [late] = ranker.rank([_opp(1, probability=50, close_in=-3)], now=NOW)
    assert late.score == 40  # 0.5 × 1 × 0.8
    assert late.reasons[-1] == "overdue close date (3 days late)"
    [undated] = ranker.rank([_opp(2, probability=50)], now=NOW)
    assert undated.score == 15  # 0.5 × 1 × 0.3
    assert undated.reasons[-1] == "no expected close date"


def test_without_activity_the_stage_entry_counts():
    opp = _opp(1, probability=100, close_in=0)
    opp.last_activity_at = None  # entered its stage 60 days ago
    [ranked] = ranking.StageRanker().rank([opp], now=NOW)
    assert ranked.reasons[1:] == ["active 60 days ago", "expected to close today"]
    assert ranked.score == round(100 * 0.5 ** (60 / 14))


def test_best_first_and_ties_by_date_then_amount():
    ranker = ranking.StageRanker()
    ranked = ranker.rank(
        [
            _opp(1, probability=10, close_in=3),
            _opp(2, probability=80, close_in=6, amount="100"),
            _opp(3, probability=80, close_in=4, amount="100"),
            _opp(4, probability=80, close_in=4, amount="900"),
        ],
        now=NOW,
    )
    assert [r.opportunity.pk for r in ranked] == [4, 3, 2, 1]
    opportunity, score, reasons = ranked[0]  # unpacks as (opp, score, reasons)
    assert (opportunity.pk, score, reasons[0]) == (4, 80, "stage 方案报价 80%")


class _ByAmount:
    key = "by_amount"

    def rank(self, opportunities, *, now=None):
        return [
            ranking.Ranked(o, int(o.amount or 0), ["big"])
            for o in sorted(opportunities, key=lambda o: -(o.amount or 0))
        ]


@pytest.fixture
def by_amount():
    ranking.register(_ByAmount())
    yield
    ranking._rankers.pop("by_amount", None)


def test_the_setting_picks_another_ranker(settings, by_amount):
    assert ranking.current().key == "stage"
    settings.SALES_CLOSE_SOON_RANKER = "by_amount"
    assert ranking.current().key == "by_amount"
    ranked = ranking.current().rank([_opp(1, amount="5"), _opp(2, amount="9")])
    assert [r.opportunity.pk for r in ranked] == [2, 1]
    settings.SALES_CLOSE_SOON_RANKER = "unknown"
    assert ranking.current().key == "stage"


def test_close_soon_uses_the_configured_ranker(people, settings, by_amount):
    from tests.sales import records
    from tuoke.customers.services import create_customer
    from tuoke.sales import queries

    rep = people["rep_east1"]
    customer = create_customer(by=rep, short_name="排序客户")
    records.opportunity(rep, customer, title="小单", amount="10")
    records.opportunity(rep, customer, title="大单", amount="99")
    records.opportunity(people["rep_east2"], customer, title="别人的", amount="500")
    settings.SALES_CLOSE_SOON_RANKER = "by_amount"
    assert [r.opportunity.title for r in queries.close_soon(rep)] == ["大单", "小单"]
    assert [r.opportunity.title for r in queries.close_soon(rep, limit=1)] == ["大单"]
