"""The daily plan's contract sources: overdue instalments and renewals coming become tasks for
the contract's owner, once per instalment or contract, back a week after they were handled
while the money is still outstanding or the renewal still missing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.contracts import records
from tuoke.activities import plan
from tuoke.activities.models import Task
from tuoke.contracts.models import ContractSettings
from tuoke.contracts.plan import OVERDUE_SOURCE, RENEWAL_SOURCE

pytestmark = pytest.mark.django_db


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def customer(rep_east):
    return records.customer(rep_east, "腾达精密")


def _run(day=None, source=OVERDUE_SOURCE):
    return plan.generate_plan(day, only=[source])


# --- Overdue instalments ------------------------------------------------------------------------


def test_an_overdue_instalment_becomes_a_task_for_the_owner(
    people, rep_east, customer, today, django_assert_max_num_queries
):
    contract = records.contract(
        rep_east,
        customer,
        number="HT202511-0001",
        amount="300000",
        instalments=[
            (today - timedelta(days=20), "100000"),  # overdue, partly paid below
            (today - timedelta(days=5), "100000"),  # overdue, unpaid
            (today + timedelta(days=30), "100000"),  # not due yet
        ],
    )
    records.payment(contract, amount="40000", by=people["finance1"])
    with django_assert_max_num_queries(8):
        drafts = list(plan.get_source(OVERDUE_SOURCE).generate(today))
    assert len(drafts) == 2
    run = _run()
    assert run.counts == {OVERDUE_SOURCE: 2}
    first, second = contract.instalments.order_by("position")[:2]
    tasks = {t.source_key: t for t in Task.objects.filter(source=OVERDUE_SOURCE)}
    assert set(tasks) == {f"instalment:{first.pk}", f"instalment:{second.pk}"}
    task = tasks[f"instalment:{first.pk}"]
    assert task.owner == rep_east and task.customer == customer and task.due_on == today
    assert task.title.startswith("Overdue payment: HT202511-0001 instalment 1, ¥60,000.00")
    assert plan.day_label(first.due_on) in task.title or str(first.due_on) in task.title
    assert "20 days" in task.note and "¥40,000.00" in task.note
    assert task.kind.key == "call"
    assert _run().counts == {OVERDUE_SOURCE: 0}


def test_paid_instalments_and_contracts_not_in_force_make_no_task(
    people, rep_east, customer, today
):
    paid = records.contract(
        rep_east,
        customer,
        number="HT-PAID",
        instalments=[(today - timedelta(days=10), "100000")],
    )
    records.payment(paid, amount="100000", by=people["finance1"])
    records.payment(  # recorded by the rep, not confirmed: still outstanding
        records.contract(
            rep_east,
            customer,
            number="HT-UNCONFIRMED",
            instalments=[(today - timedelta(days=3), "100000")],
        ),
        amount="100000",
        confirmed=False,
    )
    for status in ("draft", "pending", "completed", "terminated"):
        records.contract(
            rep_east,
            customer,
            number=f"HT-{status}",
            status=status,
            instalments=[(today - timedelta(days=10), "100000")],
        )
    _run()
    titles = list(Task.objects.filter(source=OVERDUE_SOURCE).values_list("title", flat=True))
    assert len(titles) == 1 and "HT-UNCONFIRMED" in titles[0]


def test_a_handled_overdue_task_comes_back_a_week_later_while_unpaid(rep_east, customer, today):
    records.contract(
        rep_east, customer, number="HT-LATE", instalments=[(today - timedelta(days=2), "5000")]
    )
    _run()
    task = Task.objects.get(source=OVERDUE_SOURCE)
    Task.objects.filter(pk=task.pk).update(done_at=timezone.now())
    assert _run(today + timedelta(days=1)).counts == {OVERDUE_SOURCE: 0}
    assert _run(today + timedelta(days=6)).counts == {OVERDUE_SOURCE: 0}
    assert _run(today + timedelta(days=7)).counts == {OVERDUE_SOURCE: 1}


def test_the_overdue_tasks_are_capped_per_owner_longest_overdue_first(
    rep_east, customer, today, settings
):
    settings.PLAN_CONTRACT_DAILY_CAP = 2
    contract = records.contract(
        rep_east,
        customer,
        number="HT-MANY",
        amount="400000",
        instalments=[(today - timedelta(days=days), "100000") for days in (10, 40, 20, 30)],
    )
    _run()
    keys = set(Task.objects.filter(source=OVERDUE_SOURCE).values_list("source_key", flat=True))
    by_due = list(contract.instalments.order_by("due_on"))
    assert keys == {f"instalment:{by_due[0].pk}", f"instalment:{by_due[1].pk}"}
    # Done with one: the next longest overdue takes its place.
    Task.objects.filter(source_key=f"instalment:{by_due[0].pk}").update(done_at=timezone.now())
    _run()
    assert Task.objects.filter(source=OVERDUE_SOURCE, done_at__isnull=True).count() == 2


def test_the_task_is_written_in_the_owners_language(rep_east, customer, today):
    rep_east.language = "zh-hans"
    rep_east.save(update_fields=["language"])
    records.contract(
        rep_east, customer, number="HT-ZH", instalments=[(today - timedelta(days=2), "5000")]
    )
    _run()
    task = Task.objects.get(source=OVERDUE_SOURCE)
    assert "HT-ZH" in task.title and "¥5,000.00" in task.title


# --- Renewals coming ----------------------------------------------------------------------------


def test_a_contract_ending_within_the_horizon_becomes_a_renewal_task(
    rep_east, customer, today, django_assert_max_num_queries
):
    soon = records.contract(
        rep_east, customer, number="HT-SOON", title="年度维保", ends_on=today + timedelta(days=30)
    )
    records.contract(rep_east, customer, number="HT-LATER", ends_on=today + timedelta(days=90))
    records.contract(rep_east, customer, number="HT-ENDED", ends_on=today - timedelta(days=1))
    records.contract(
        rep_east,
        customer,
        number="HT-DRAFT",
        status="draft",
        ends_on=today + timedelta(days=10),
    )
    with django_assert_max_num_queries(8):
        drafts = list(plan.get_source(RENEWAL_SOURCE).generate(today))
    assert [d.source_key for d in drafts] == [f"contract:{soon.pk}"]
    assert _run(source=RENEWAL_SOURCE).counts == {RENEWAL_SOURCE: 1}
    task = Task.objects.get(source=RENEWAL_SOURCE)
    assert task.owner == rep_east and task.customer == customer
    assert task.title.startswith("Renewal coming: HT-SOON 年度维保 ends on")
    assert "30 days left" in task.note
    assert task.kind.key == "visit"
    # A wider horizon takes the later one in too.
    ContractSettings.objects.update(renewal_horizon_days=120)
    assert _run(source=RENEWAL_SOURCE).counts == {RENEWAL_SOURCE: 1}


def test_a_live_renewal_keeps_the_contract_off_the_plan(rep_east, customer, today):
    ends = today + timedelta(days=20)
    renewed = records.contract(rep_east, customer, number="HT-R1", ends_on=ends)
    records.contract(rep_east, customer, number="HT-R1-NEXT", status="draft", renews=renewed)
    dropped = records.contract(rep_east, customer, number="HT-R2", ends_on=ends)
    records.contract(rep_east, customer, number="HT-R2-NEXT", status="terminated", renews=dropped)
    deleted = records.contract(rep_east, customer, number="HT-R3", ends_on=ends)
    gone = records.contract(rep_east, customer, number="HT-R3-NEXT", status="draft", renews=deleted)
    gone.deleted_at = timezone.now()
    gone.save(update_fields=["deleted_at"])
    _run(source=RENEWAL_SOURCE)
    keys = set(Task.objects.filter(source=RENEWAL_SOURCE).values_list("source_key", flat=True))
    assert keys == {f"contract:{dropped.pk}", f"contract:{deleted.pk}"}


def test_inactive_owners_get_no_contract_tasks(rep_east, customer, today):
    records.contract(
        rep_east,
        customer,
        number="HT-GONE",
        ends_on=today + timedelta(days=5),
        instalments=[(today - timedelta(days=2), "5000")],
    )
    rep_east.is_active = False
    rep_east.save(update_fields=["is_active"])
    run = plan.generate_plan(only=[OVERDUE_SOURCE, RENEWAL_SOURCE])
    assert run.counts == {OVERDUE_SOURCE: 0, RENEWAL_SOURCE: 0}


def test_the_sources_are_registered_with_labels(db):
    keys = [s.key for s in plan.sources()]
    assert OVERDUE_SOURCE in keys and RENEWAL_SOURCE in keys
    assert plan.source_label(OVERDUE_SOURCE) == "Overdue payments"
    assert plan.source_label(RENEWAL_SOURCE) == "Renewals coming"
