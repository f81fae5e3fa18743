"""The daily plan's generator: customers due by the cadence of their tier (capped per rep,
most overdue first), next steps that fell due, no duplicates on a re-run, nothing done
today made again, and the customers it leaves alone."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tuoke.activities import plan
from tuoke.activities.models import Cadence, FollowUp, PlanRun, Task
from tuoke.core import services as core_services
from tuoke.customers.models import Customer, LifecycleStatus

from .plan_records import DAY, NOW, created_days_ago, customer


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def rep(people):
    return people["rep_east1"]


def _planned(owner=None, source=plan.CADENCE_SOURCE):
    tasks = Task.objects.filter(source=source, done_at__isnull=True)
    if owner is not None:
        tasks = tasks.filter(owner=owner)
    return tasks


def _customers_planned(owner=None, source=plan.CADENCE_SOURCE) -> set[str]:
    return {t.customer.short_name for t in _planned(owner, source).select_related("customer")}


def test_it_plans_customers_by_the_cadence_of_their_tier(rep):
    # The defaults: A every 7 days, B 14, C 30, untiered 30.
    customer(rep, "甲A到期", tier="A", touched_days_ago=7)
    customer(rep, "甲A未到", tier="A", touched_days_ago=6)
    customer(rep, "乙B到期", tier="B", touched_days_ago=14)
    customer(rep, "乙B未到", tier="B", touched_days_ago=13)
    customer(rep, "丙C到期", tier="C", touched_days_ago=30)
    customer(rep, "无级到期", touched_days_ago=45)
    customer(rep, "无级未到", touched_days_ago=29)
    never = customer(rep, "从未跟进")
    created_days_ago(never, 31)
    fresh = customer(rep, "新客户")
    created_days_ago(fresh, 3)

    run = plan.generate_plan(DAY, trigger="test")

    assert _customers_planned(rep) == {"甲A到期", "乙B到期", "丙C到期", "无级到期", "从未跟进"}
    task = _planned(rep).get(customer__short_name="甲A到期")
    assert task.due_on == DAY and task.kind.key == "call"
    assert task.source_key == f"customer:{task.customer_id}"
    assert "甲A到期" in task.title
    assert run.counts[plan.CADENCE_SOURCE] == 5 and run.created == 5 and run.trigger == "test"
    assert PlanRun.objects.count() == 1


def test_cadences_are_configurable_per_tier(rep, admin_user):
    customer(rep, "甲A", tier="A", touched_days_ago=5)
    customer(rep, "无级", touched_days_ago=45)

    plan.set_cadences({"A": 3, "": None}, by=admin_user)
    plan.generate_plan(DAY)

    # A every 3 days now; untiered customers are not planned by cadence any more.
    assert _customers_planned(rep) == {"甲A"}
    assert dict(Cadence.objects.values_list("tier", "days")) == {"A": 3, "B": 14, "C": 30}


def test_only_administrators_change_cadences(rep):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        plan.set_cadences({"A": 3}, by=rep)


def test_it_caps_each_reps_plan_and_puts_the_most_overdue_first(rep, people, settings):
    settings.PLAN_CADENCE_DAILY_CAP = 3
    customer(rep, "A八天", tier="A", touched_days_ago=8)  # due 1 day ago
    customer(rep, "A二十天", tier="A", touched_days_ago=20)  # due 13 days ago
    customer(rep, "B十五天", tier="B", touched_days_ago=15)  # due 1 day ago
    customer(rep, "无级九十天", touched_days_ago=90)  # due 60 days ago
    customer(rep, "C三十一天", tier="C", touched_days_ago=31)  # due 1 day ago, touched later
    other = people["rep_east2"]
    customer(other, "同事客户", tier="A", touched_days_ago=30)

    plan.generate_plan(DAY)

    # Three fell due a day ago; the one followed up longest ago goes first.
    assert _customers_planned(rep) == {"无级九十天", "A二十天", "C三十一天"}
    assert _customers_planned(other) == {"同事客户"}

    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        # The next day the three are still open: the cap counts them, nothing is added.
        assert plan.generate_plan().counts["cadence"] == 0

        # Two followed up (their tasks are done with it): two more come.
        from tuoke.activities.services import log_follow_up

        for name in ("A二十天", "无级九十天"):
            target = Customer.objects.get(short_name=name)
            log_follow_up(by=rep, customer=target, kind="call", content="例行回访")
        assert plan.generate_plan().counts["cadence"] == 2
    assert _customers_planned(rep) == {"C三十一天", "B十五天", "A八天"}


def test_a_rerun_the_same_day_makes_nothing(rep):
    customer(rep, "甲", tier="A", touched_days_ago=10)
    customer(rep, "乙", touched_days_ago=40)

    first = plan.generate_plan(DAY)
    second = plan.generate_plan(DAY)

    assert first.created == 2
    # (Other apps' sources, registered too, count their own.)
    assert second.created == 0 and set(second.counts.values()) == {0}
    assert {"next_step", "cadence"} <= set(second.counts)
    assert Task.objects.count() == 2


def test_a_task_done_or_deleted_today_is_not_made_again_today(rep):
    done = customer(rep, "已完成", tier="A", touched_days_ago=10)
    deleted = customer(rep, "已删除", tier="A", touched_days_ago=10)
    plan.generate_plan(DAY)
    # Ticked off without logging a follow-up: the customer is still due by cadence.
    plan.complete_task(_planned(rep).get(customer=done), by=rep)
    plan.delete_task(_planned(rep).get(customer=deleted), by=rep)

    assert plan.generate_plan(DAY).created == 0

    # The next day both are due again.
    tomorrow = plan.generate_plan(DAY + timedelta(days=1))
    assert tomorrow.counts["cadence"] == 2


def test_it_leaves_out_binned_churned_busy_and_departed_customers(rep, people):
    from tuoke.customers.services import delete_customer

    binned = customer(rep, "回收站", tier="A", touched_days_ago=30)
    delete_customer(binned, by=rep)
    churned = customer(rep, "已流失", tier="A", touched_days_ago=30)
    Customer.all_objects.filter(pk=churned.pk).update(lifecycle_status=LifecycleStatus.CHURNED)
    busy = customer(rep, "有任务", tier="A", touched_days_ago=30)
    plan.create_task(by=rep, title="下周送样品", due_on=DAY + timedelta(days=5), customer=busy)
    # A task of someone else on the customer (his manager's) keeps it off too.
    managed = customer(rep, "经理跟进中", tier="A", touched_days_ago=30)
    manager = people["manager_east"]
    plan.create_task(by=manager, title="经理拜访", due_on=DAY, customer=managed, owner=manager)
    leaver = people["rep_east2"]
    customer(leaver, "离职者的", tier="A", touched_days_ago=30)
    type(leaver).objects.filter(pk=leaver.pk).update(is_active=False)
    customer(rep, "该跟进", tier="A", touched_days_ago=30)

    plan.generate_plan(DAY)

    assert _customers_planned() == {"该跟进"}


def _follow_up(owner, *, customer=None, lead=None, days_ago: int, next_step_on=None, step=""):
    """A follow-up written straight to the table (as an import would), without its task."""
    return core_services.create_record(
        FollowUp,
        by=owner,
        customer=customer,
        lead=lead,
        kind=plan.FollowUpKind.objects.get(key="visit"),
        happened_at=NOW - timedelta(days=days_ago),
        content="拜访",
        next_step=step,
        next_step_on=next_step_on,
    )


def test_it_plans_next_steps_that_fell_due(rep):
    target = customer(rep, "下一步", tier="C", touched_days_ago=2)
    due = _follow_up(rep, customer=target, days_ago=2, next_step_on=DAY, step="寄送报价单")
    later = customer(rep, "以后再说", tier="C", touched_days_ago=1)
    _follow_up(rep, customer=later, days_ago=1, next_step_on=DAY + timedelta(days=3))
    overdue = customer(rep, "逾期下一步", tier="C", touched_days_ago=9)
    late = _follow_up(rep, customer=overdue, days_ago=9, next_step_on=DAY - timedelta(days=4))

    run = plan.generate_plan(DAY)

    tasks = {t.source_key: t for t in _planned(rep, plan.NEXT_STEP_SOURCE)}
    assert set(tasks) == {f"follow_up:{due.pk}", f"follow_up:{late.pk}"}
    task = tasks[f"follow_up:{due.pk}"]
    assert task.title == "寄送报价单" and task.due_on == DAY and task.customer == target
    assert task.kind.key == "visit"
    assert tasks[f"follow_up:{late.pk}"].due_on == DAY - timedelta(days=4)
    assert run.counts["next_step"] == 2


def test_only_the_newest_follow_up_of_a_customer_counts(rep, people):
    target = customer(rep, "跟进过了", tier="C", touched_days_ago=1)
    _follow_up(rep, customer=target, days_ago=5, next_step_on=DAY - timedelta(days=1))
    # Someone followed up since: the earlier next step is settled.
    _follow_up(people["manager_east"], customer=target, days_ago=1)

    plan.generate_plan(DAY)

    assert not _planned(source=plan.NEXT_STEP_SOURCE).exists()


def test_a_next_step_whose_task_was_done_never_comes_back(rep):
    target = customer(rep, "做完了", tier="C", touched_days_ago=3)
    _follow_up(rep, customer=target, days_ago=3, next_step_on=DAY - timedelta(days=1))
    plan.generate_plan(DAY - timedelta(days=1))
    plan.complete_task(_planned(rep, plan.NEXT_STEP_SOURCE).get(), by=rep)

    assert plan.generate_plan(DAY).counts["next_step"] == 0
    assert plan.generate_plan(DAY + timedelta(days=3)).counts["next_step"] == 0


def test_a_next_step_logged_in_tuoke_has_its_task_already(rep):
    from tuoke.activities.services import log_follow_up

    target = customer(rep, "当场建任务", tier="C", touched_days_ago=3)
    with time_machine.travel(NOW - timedelta(days=3), tick=False):
        follow_up = log_follow_up(
            by=rep,
            customer=target,
            kind="call",
            content="电话沟通",
            next_step="发合同",
            next_step_on=DAY,
        )

    run = plan.generate_plan(DAY)

    assert run.counts["next_step"] == 0
    assert _planned(rep, plan.NEXT_STEP_SOURCE).get().source_key == f"follow_up:{follow_up.pk}"


def test_it_plans_next_steps_of_open_leads(rep):
    from tuoke.leads.services import create_lead

    lead = create_lead(by=rep, short_name="展会线索", owner=rep)
    follow_up = _follow_up(rep, lead=lead, days_ago=2, next_step_on=DAY)

    plan.generate_plan(DAY)

    task = _planned(rep, plan.NEXT_STEP_SOURCE).get()
    assert task.lead == lead and task.customer is None
    assert task.source_key == f"follow_up:{follow_up.pk}"
    assert "展会线索" in task.title


def test_the_plan_takes_a_fixed_number_of_queries(rep, people):
    for n in range(5):
        owner = rep if n % 2 else people["rep_east2"]
        target = customer(owner, f"客户{n}", tier="A", touched_days_ago=10 + n)
        _follow_up(owner, customer=target, days_ago=10 + n, next_step_on=DAY)
    with CaptureQueriesContext(connection) as few:
        plan.generate_plan(DAY)
    for n in range(5, 30):
        owner = rep if n % 2 else people["rep_east2"]
        target = customer(owner, f"客户{n}", tier="A", touched_days_ago=10 + n)
        _follow_up(owner, customer=target, days_ago=10 + n, next_step_on=DAY)
    Task.objects.all().delete()
    with CaptureQueriesContext(connection) as many:
        plan.generate_plan(DAY)
    assert len(many) == len(few)
    assert Task.objects.filter(source="next_step").count() == 30


def test_untiered_customers_with_an_unknown_tier_follow_the_untiered_cadence(rep):
    customer(rep, "D级", tier="D", touched_days_ago=31)

    plan.generate_plan(DAY)

    assert _customers_planned(rep) == {"D级"}
    assert Customer.objects.get(short_name="D级").tier == "D"
