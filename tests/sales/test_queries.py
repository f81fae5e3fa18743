"""The funnel's figures, counted by hand on tests/sales/funnel_data.py."""

from datetime import date, timedelta

import pytest

from tests.sales import funnel_data, records
from tuoke.sales import queries


@pytest.fixture
def data(people):
    return funnel_data.build(people)


def _funnel(user, **extra):
    return queries.funnel(
        user,
        start=funnel_data.START,
        end=funnel_data.END,
        pipeline=records.pipeline(),
        **extra,
    )


def _by_name(funnel):
    return {row.stage.name: row for row in funnel.stages}


def test_it_counts_a_reps_own_funnel_by_hand(people, data):
    funnel = _funnel(people["rep_east1"])
    assert (funnel.cohort, funnel.won, funnel.lost, funnel.open) == (4, 1, 2, 1)
    assert funnel.win_rate == pytest.approx(1 / 3)
    assert funnel.win_rate_of_cohort == pytest.approx(1 / 4)
    rows = _by_name(funnel)
    assert [r.stage.name for r in funnel.stages] == ["初步接洽", "需求确认", "方案报价", "商务谈判"]
    assert [r.reached for r in funnel.stages] == [4, 3, 2, 1]
    assert [r.conversion_percent for r in funnel.stages] == [75, 67, 50, 100]
    assert [r.next_name for r in funnel.stages] == ["需求确认", "方案报价", "商务谈判", "赢单"]
    assert [r.entered for r in funnel.stages] == [4, 3, 2, 1]
    assert (funnel.entered_won, funnel.entered_lost) == (1, 2)
    assert (rows["初步接洽"].median_days, rows["初步接洽"].p80_days) == (3, 14)
    assert rows["初步接洽"].stays == 4
    assert (rows["需求确认"].median_days, rows["需求确认"].p80_days) == (10, 10)
    assert rows["需求确认"].stays == 1  # D is still there
    assert (rows["方案报价"].median_days, rows["方案报价"].p80_days) == (20, 21)
    assert rows["商务谈判"].median_days == 10
    assert [(r.name, r.count) for r in funnel.lost_reasons] == [("价格过高", 1), ("无预算", 1)]
    assert funnel.bottleneck.stage.name == "方案报价"
    assert "50%" in funnel.bottleneck.bottleneck_reason


def test_a_manager_sees_his_team_and_can_narrow_to_one_rep(people, data):
    manager = people["manager_east"]
    funnel = _funnel(manager)
    assert (funnel.cohort, funnel.won, funnel.lost) == (5, 2, 2)
    assert [r.reached for r in funnel.stages] == [5, 4, 3, 2]
    rows = _by_name(funnel)
    assert (rows["初步接洽"].median_days, rows["初步接洽"].p80_days) == (3, 5)
    assert funnel.bottleneck.stage.name == "方案报价"

    only_east2 = _funnel(manager, owner_ids=[people["rep_east2"].pk])
    assert (only_east2.cohort, only_east2.won) == (1, 1)
    assert _by_name(only_east2)["初步接洽"].median_days == 1.5


def test_the_boss_sees_everyone_and_a_unit_narrows(people, data):
    boss = people["boss"]
    assert _funnel(boss).cohort == 6
    south = _funnel(boss, unit=people["rep_south1"].unit)
    assert (south.cohort, south.won, south.open) == (1, 0, 1)


def test_a_rep_never_counts_a_colleagues_deals(people, data):
    funnel = _funnel(people["rep_south1"])
    assert funnel.cohort == 1
    assert funnel.entered_won == 0
    # Asking for someone else's deals by owner gives nothing rather than his figures.
    assert _funnel(people["rep_south1"], owner_ids=[people["rep_east1"].pk]).cohort == 0


def test_days_are_cut_to_the_tenth(people, data):
    rep = people["rep_east1"]
    start = funnel_data.at(3, 10)
    funnel_data.make(
        rep,
        "H 商机",
        [
            ("初步接洽", start, start + timedelta(days=3, hours=23)),
            ("需求确认", start + timedelta(days=3, hours=23), None),
        ],
    )
    funnel = _funnel(rep, owner_ids=[rep.pk])
    # 2 3 3.9 5 14: the median is the third value, p80 the fourth.
    row = _by_name(funnel)["初步接洽"]
    assert (row.median_days, row.p80_days, row.stays) == (3.9, 5, 5)


def test_the_bottleneck_moves_when_deals_are_lost(people, data):
    rep = people["rep_east1"]
    # Three more from 初步接洽 straight to lost: 初步接洽 now converts worst (3 of 7).
    for title in ("I 商机", "J 商机", "L 商机"):
        funnel_data.make(
            rep,
            title,
            [
                ("初步接洽", funnel_data.at(3, 5), funnel_data.at(3, 6)),
                ("输单", funnel_data.at(3, 6), None),
            ],
            status="lost",
            lost_reason=funnel_data.reason("价格过高"),
        )
    funnel = _funnel(rep)
    assert funnel.bottleneck.stage.name == "初步接洽"
    assert [(r.name, r.count) for r in funnel.lost_reasons] == [("价格过高", 4), ("无预算", 1)]


def test_without_a_cohort_the_slowest_stage_is_the_bottleneck(people, data):
    rep = people["rep_east1"]
    # Created before the period, so no cohort; no days either then: no bottleneck.
    funnel = queries.funnel(
        rep, start=funnel_data.at(3, 20), end=funnel_data.END, pipeline=records.pipeline()
    )
    assert funnel.cohort == 0
    assert funnel.bottleneck is None


@pytest.mark.parametrize(
    ("measure", "stage", "reason", "expected"),
    [
        ("cohort", None, None, {"A", "B", "C", "D"}),
        ("entered", "需求确认", None, {"A", "D", "E"}),
        ("reached", "需求确认", None, {"A", "B", "D"}),
        ("reached", "商务谈判", None, {"A"}),
        ("won", None, None, {"A"}),
        ("lost", None, None, {"B", "C"}),
        ("closed", None, None, {"A", "B", "C"}),
        ("days", "初步接洽", None, {"A", "B", "C", "D"}),
        ("days", "需求确认", None, {"A"}),
        ("customers", "需求确认", None, {"D", "E"}),
    ],
)
def test_each_figure_drills_down_to_its_opportunities(
    people, data, measure, stage, reason, expected
):
    filters = queries.Filters.of(
        pipeline=records.pipeline(), start=funnel_data.START, end=funnel_data.END
    )
    found = queries.records(
        people["rep_east1"],
        filters,
        measure,
        stage=records.stage(stage) if stage else None,
        reason=reason,
    )
    assert {o.title.split()[0] for o in found} == expected


def test_the_drill_down_by_reason(people, data):
    filters = queries.Filters.of(
        pipeline=records.pipeline(), start=funnel_data.START, end=funnel_data.END
    )
    price = funnel_data.reason("价格过高")
    found = queries.records(people["rep_east1"], filters, "lost", reason=price.pk)
    assert [o.title for o in found] == ["B 商机"]
    assert not queries.records(people["rep_east1"], filters, "lost", reason=0).exists()


def test_the_funnel_costs_a_few_queries(people, data, django_assert_max_num_queries):
    boss = people["boss"]
    pipeline = records.pipeline()
    boss.refresh_from_db()
    # The figures' five queries, the sales fingerprint, the directory's and the boss's grants.
    with django_assert_max_num_queries(10):
        first = queries.funnel(
            boss, start=funnel_data.START, end=funnel_data.END, pipeline=pipeline
        )
    # Asked again with nothing changed: the fingerprints alone.
    with django_assert_max_num_queries(2):
        again = queries.funnel(
            boss, start=funnel_data.START, end=funnel_data.END, pipeline=pipeline
        )
    assert (again.cohort, again.won, again.lost) == (first.cohort, first.won, first.lost)


def test_the_kept_figures_follow_every_change(people, data):
    """A stage move, a loss, a deletion, a renamed stage: each is counted at once."""
    from tuoke.core.services import soft_delete
    from tuoke.sales import services
    from tuoke.sales.models import LostReason, Opportunity

    boss, pipeline = people["boss"], records.pipeline()

    def figures():
        found = queries.funnel(
            boss, start=funnel_data.START, end=funnel_data.END, pipeline=pipeline
        )
        return found.cohort, found.won, found.lost, [s.stage.name for s in found.stages]

    before = figures()
    open_one = (
        queries.cohort(
            boss,
            queries.Filters.of(pipeline=pipeline, start=funnel_data.START, end=funnel_data.END),
        )
        .filter(status="open")
        .first()
    )
    reason = LostReason.objects.filter(active=True).first()
    services.lose(open_one, by=people["admin"], reason=reason)
    after_loss = figures()
    assert after_loss[2] == before[2] + 1
    soft_delete(Opportunity.objects.get(pk=open_one.pk), by=people["admin"])
    assert figures()[0] == before[0] - 1
    stage = pipeline.stages.get(name="需求确认")
    stage.name = "需求确认（新）"
    stage.save()
    assert "需求确认（新）" in figures()[3]


def test_customers_by_stage_counts_distinct_customers_per_rep(people, data):
    from tuoke.sales.models import Opportunity

    rep = people["rep_east1"]
    # A second open deal of D's customer in the same stage: still one customer.
    d = data["D"]
    funnel_data.make(rep, "K 商机", [("需求确认", funnel_data.at(3, 5), None)], customer=d.customer)
    filters = queries.Filters.of(
        pipeline=records.pipeline(), start=funnel_data.START, end=funnel_data.END
    )
    report = queries.customers_by_stage(people["manager_east"], filters)
    assert [s.name for s in report.stages] == ["初步接洽", "需求确认", "方案报价", "商务谈判"]
    rows = {row.owner.username: row for row in report.rows}
    assert list(rows) == ["rep_east1"]  # G of rep_east2 is won: nothing open
    assert rows["rep_east1"].counts == [0, 2, 0, 0]  # D's customer (twice) and E's
    assert report.totals == [0, 2, 0, 0]
    assert report.total == 2
    listed = queries.records(rep, filters, "customers", stage=records.stage("需求确认"))
    assert listed.count() == 3
    assert listed.values("customer").distinct().count() == 2
    assert Opportunity.objects.count() == 8


@pytest.mark.parametrize(
    ("period", "today", "expected"),
    [
        ("month", date(2026, 12, 31), (date(2026, 12, 1), date(2027, 1, 1))),
        ("quarter", date(2026, 11, 24), (date(2026, 10, 1), date(2027, 1, 1))),
        ("quarter", date(2026, 2, 28), (date(2026, 1, 1), date(2026, 4, 1))),
        ("quarter", date(2026, 4, 1), (date(2026, 4, 1), date(2026, 7, 1))),
        ("year", date(2026, 11, 24), (date(2026, 1, 1), date(2027, 1, 1))),
    ],
)
def test_periods_run_from_their_first_day_to_the_next_periods(period, today, expected):
    assert queries.period_bounds(period, today) == expected
