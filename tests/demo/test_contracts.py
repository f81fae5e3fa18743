"""The demo's contracts: one per won demo opportunity (and per customer signed before the
demo's year) with payment plans, payments, invoices, renewals and requests waiting in the
approvers' queues, all made through the services and dated in the past; the receivables and
renewal figures of the reports equal a hand count; the daily plan gets the overdue ones."""

import re
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import F, Sum
from django.utils import timezone

from tuoke.activities import plan
from tuoke.activities.models import Task
from tuoke.contracts import demo, queries
from tuoke.contracts.models import (
    Contract,
    Instalment,
    Invoice,
    Payment,
    SalesCredit,
)
from tuoke.contracts.plan import OVERDUE_SOURCE, RENEWAL_SOURCE
from tuoke.core.models import AuditEntry
from tuoke.core.money import to_reporting
from tuoke.customers.models import LifecycleStatus
from tuoke.org import approvals
from tuoke.org.models import ApprovalAction, ApprovalRequest
from tuoke.sales.models import Opportunity


def _counts() -> dict[str, int]:
    return {
        "contracts": Contract.all_objects.count(),
        "instalments": Instalment.all_objects.count(),
        "payments": Payment.all_objects.count(),
        "invoices": Invoice.all_objects.count(),
        "requests": ApprovalRequest.all_objects.count(),
        "credit": SalesCredit.objects.count(),
    }


@pytest.fixture
def built(whole_demo):
    return {
        "people": whole_demo.people,
        "made": whole_demo.made["contracts"],
        "started": whole_demo.started["contracts"],
        "again": whole_demo.again["contracts"],
        "counts": _counts(),
        "whole_counts": whole_demo.counts,
        "whole_again_counts": whole_demo.again_counts,
    }


# One build of the demo for the package, on one worker (see conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("demo")]


def test_every_won_opportunity_has_its_contract(built):
    won = Opportunity.objects.filter(status="won", customer__owner__username__in=demo.OWNERS)
    assert won.count() > 20
    for opp in won:
        contract = Contract.objects.get(opportunity=opp)
        assert (contract.customer_id, contract.owner_id) == (opp.customer_id, opp.owner_id)
        assert (contract.amount, contract.currency) == (opp.amount, opp.currency)
        if contract.status != "pending" and contract.status != "draft":
            assert contract.signed_on == timezone.localtime(opp.closed_at).date()
    numbers = list(Contract.all_objects.values_list("number", flat=True))
    assert all(re.fullmatch(r"HT\d{6}-\d{4}", n) for n in numbers)
    assert len(set(numbers)) == len(numbers) == built["made"]["contracts"]
    # Numbered in the order they were drafted, from the month they were drafted in.
    drafted = Contract.all_objects.order_by("created_at", "pk")
    keys = [(c.number[2:6], c.number[-4:]) for c in drafted]  # restarting each year
    assert keys == sorted(keys)
    for contract in drafted:
        assert contract.number[2:8] == f"{timezone.localtime(contract.created_at):%Y%m}"


def test_the_contracts_show_each_status_and_currency(built):
    status = Counter(Contract.objects.values_list("status", flat=True))
    assert status["effective"] > 30
    assert status["completed"] >= 3
    assert status["pending"] >= 5
    assert status["draft"] >= 2
    assert status["terminated"] >= 1
    assert Contract.objects.filter(currency="USD", status="effective").exists()
    assert not Contract.objects.filter(status="terminated", termination_reason="").exists()
    # Customers with a contract in force are signed (or churned since).
    lifecycles = set(
        Contract.objects.filter(status="effective").values_list(
            "customer__lifecycle_status", flat=True
        )
    )
    assert lifecycles <= {LifecycleStatus.SIGNED, LifecycleStatus.CHURNED}


def test_plans_add_up_and_payments_are_a_mix(built):
    today = timezone.localdate()
    signed = Contract.objects.exclude(status__in=["draft", "pending"])
    for contract in signed.prefetch_related("instalments"):
        plan_ = list(contract.instalments.all())
        assert 1 <= len(plan_) <= 4
        assert sum(i.amount for i in plan_) == contract.amount
    effective = signed.filter(status="effective")
    paid = effective.filter(received_amount=F("amount"))
    partly = effective.filter(received_amount__gt=0, received_amount__lt=F("amount"))
    assert paid.exists() and partly.count() >= 5
    overdue = Instalment.objects.filter(
        contract__status="effective", due_on__lt=today, paid_amount__lt=F("amount")
    )
    assert overdue.count() >= 5
    assert overdue.filter(due_on__lt=today - timedelta(days=90)).exists()
    assert overdue.filter(paid_amount__gt=0).exists()
    payments = Payment.objects.all()
    finance = built["people"]["finance1"]
    assert not payments.filter(status="confirmed").exclude(confirmed_by=finance).exists()
    waiting = payments.filter(status="unconfirmed")
    assert waiting.count() >= 2
    assert set(waiting.values_list("created_by__username", flat=True)) <= set(demo.OWNERS)
    assert not payments.filter(received_on__gte=today).exists()
    # Each payment was recorded on the day it came in.
    for payment in payments:
        assert timezone.localtime(payment.created_at).date() == payment.received_on


def test_credit_follows_the_money(built):
    """The default rule: credit when finance confirms money, to the contract's owner."""
    credit = dict(
        SalesCredit.objects.values("contract_id")
        .annotate(total=Sum("amount"))
        .values_list("contract_id", "total")
    )
    for contract in Contract.objects.filter(received_amount__gt=0):
        assert credit.get(contract.pk) == contract.received_amount
    assert set(credit) == set(
        Contract.objects.filter(received_amount__gt=0).values_list("pk", flat=True)
    )
    for row in SalesCredit.objects.select_related("payment", "contract"):
        assert row.owner_id == row.contract.owner_id
        assert row.credited_on == row.payment.received_on
        assert row.reporting_amount == to_reporting(row.amount, row.currency, on=row.credited_on)


def test_invoices_are_issued_and_requested(built):
    invoices = Invoice.objects.all()
    kinds = Counter(invoices.filter(status="issued").values_list("kind", flat=True))
    assert kinds["vat_special"] > 10 and kinds["vat_normal"] >= 2
    requested = invoices.filter(status="requested")
    assert requested.exists()
    assert not requested.exclude(number="").exists()
    assert set(requested.values_list("created_by__username", flat=True)) <= set(demo.OWNERS)
    for contract in Contract.objects.filter(invoices__isnull=False).distinct():
        total = contract.invoices.exclude(status="void").aggregate(t=Sum("amount"))["t"]
        assert total <= contract.amount


def test_completed_contracts_were_renewed_in_force_and_as_a_draft(built):
    completed = Contract.objects.filter(status="completed")
    assert not completed.exclude(received_amount=F("amount")).exists()
    renewals = Contract.objects.filter(renews__isnull=False).select_related("renews")
    assert {r.status for r in renewals} >= {"effective", "draft"}
    for renewal in renewals:
        assert renewal.renews.status in ("effective", "completed")
        assert renewal.starts_on == renewal.renews.ends_on + timedelta(days=1)
        assert renewal.title.endswith("（续约）")
        assert renewal.customer_id == renewal.renews.customer_id


def test_a_few_contracts_end_within_the_renewal_horizon(built):
    boss = built["people"]["boss"]
    soon = list(queries.ending_soon(boss, days=60))
    assert len(soon) >= 3
    assert all(not c.renewals.exclude(status="terminated").exists() for c in soon)


def test_requests_wait_in_the_directors_and_finances_queues(built):
    people = built["people"]
    director = list(approvals.queue(people["director"]))
    finance = list(approvals.queue(people["finance1"]))
    assert len(director) >= 2 and len(finance) >= 2
    for request in director + finance:
        contract = approvals.record_of(request)
        assert contract.status == "pending"
        assert request.owner_id == contract.owner_id
    # The director's came through the reps' managers, finance's through the director (or the
    # foreign-currency flow straight to finance).
    for request in director:
        approved = request.actions.filter(kind="approve").values_list("actor__username", flat=True)
        assert list(approved) in (["manager_east"], ["manager_south"])
    assert any(r.currency == "USD" for r in finance)
    pending = set(Contract.objects.filter(status="pending").values_list("pk", flat=True))
    requested = set(
        ApprovalRequest.objects.filter(target="contract", status="pending").values_list(
            "object_id", flat=True
        )
    )
    assert pending == requested
    returned = ApprovalRequest.objects.get(status="returned")
    assert approvals.record_of(returned).status == "draft"
    assert returned.actions.get(kind="return").comment


def test_history_is_dated_when_it_happened(built):
    started = built["started"]
    for model, names in demo.STAMPED:
        manager = getattr(model, "all_objects", model._base_manager)
        for name in names:
            assert not manager.filter(**{f"{name}__gte": started}).exists(), (model, name)
    assert AuditEntry.objects.filter(content_type__model="contract").count() > 100
    for request in ApprovalRequest.objects.prefetch_related("actions"):
        moments = [a.at for a in request.actions.all()]
        assert moments == sorted(moments) and moments[0] >= request.submitted_at
    effective = Contract.objects.filter(effective_at__isnull=False)
    assert not effective.filter(effective_at__lt=F("created_at")).exists()
    # Approved after they were submitted, in office hours.
    for action in ApprovalAction.objects.filter(kind="approve"):
        assert 9 <= timezone.localtime(action.at).hour < 18


def test_receivables_equal_a_hand_count(built):
    """The receivables report on the demo, against the money due counted instalment by
    instalment (and the unplanned rest as not due), per rep and in total."""
    today = timezone.localdate()
    boss = built["people"]["boss"]
    report = queries.receivables(boss, as_of=today)
    by_owner: dict[int, dict[str, Decimal]] = defaultdict(
        lambda: dict.fromkeys(queries.BUCKETS, Decimal("0"))
    )
    counted = 0
    for contract in Contract.objects.filter(status__in=["effective", "completed"]):
        outstanding = contract.amount - contract.received_amount
        if outstanding <= 0:
            continue
        counted += 1
        buckets = dict.fromkeys(queries.BUCKETS, Decimal("0"))
        for instalment in contract.instalments.all():
            due = instalment.amount - instalment.paid_amount
            if due <= 0:
                continue
            late = (today - instalment.due_on).days
            bucket = (
                "not_due"
                if late <= 0
                else "1_30"
                if late <= 30
                else "31_90"
                if late <= 90
                else "over_90"
            )
            buckets[bucket] += due
        buckets["not_due"] += outstanding - sum(buckets.values())
        for bucket, amount in buckets.items():
            by_owner[contract.owner_id][bucket] += to_reporting(amount, contract.currency, on=today)
    assert counted == report.total.contracts > 10
    for bucket in queries.BUCKETS:
        hand = sum(owner[bucket] for owner in by_owner.values())
        assert report.total.buckets[bucket] == pytest.approx(hand, abs=Decimal("0.05")), bucket
    assert report.total.buckets["over_90"] > 0 and report.total.buckets["1_30"] > 0
    for ageing in report.by_owner:
        for bucket in queries.BUCKETS:
            assert ageing.buckets[bucket] == pytest.approx(
                by_owner[ageing.owner.pk][bucket], abs=Decimal("0.05")
            )
    east = next(u for u in report.by_unit if u.unit.name == "华东销售组")
    east_people = {"rep_east1", "rep_east2", "manager_east"}
    east_total = sum(
        sum(by_owner[built["people"][name].pk].values(), Decimal("0")) for name in east_people
    )
    assert east.total == pytest.approx(east_total, abs=Decimal("0.05"))


def test_renewal_figures_equal_a_hand_count(built):
    today = timezone.localdate()
    start = today - timedelta(days=240)
    figures = queries.renewal_figures(built["people"]["boss"], start=start, end=today)
    due = Contract.objects.filter(
        status__in=["effective", "completed"], ends_on__gte=start, ends_on__lte=today
    )
    renewed = [c for c in due if c.renewals.filter(status__in=["effective", "completed"]).exists()]
    assert figures.due_count == due.count() >= 3
    assert figures.renewed_count == len(renewed) >= 2
    renewal_amount = sum(
        (
            r.amount
            for c in renewed
            for r in c.renewals.filter(status__in=["effective", "completed"])
        ),
        Decimal("0"),
    )
    assert figures.renewal_amount == renewal_amount
    assert figures.rate_by_count == (Decimal(len(renewed)) / due.count()).quantize(
        Decimal("0.0001")
    )


def test_the_plan_gets_the_overdue_payments_and_renewals(built):
    # The demo plans today once more after its contracts: a new run finds nothing left.
    assert Task.objects.filter(source=OVERDUE_SOURCE).count() >= 5
    assert Task.objects.filter(source=RENEWAL_SOURCE).count() >= 3
    run = plan.generate_plan(only=[OVERDUE_SOURCE, RENEWAL_SOURCE])
    assert run.counts[OVERDUE_SOURCE] == run.counts[RENEWAL_SOURCE] == 0
    overdue = Task.objects.filter(source=OVERDUE_SOURCE).select_related("owner")
    assert {t.owner.username for t in overdue} <= set(demo.OWNERS)
    assert any(t.owner.username.startswith("rep_") for t in overdue)
    for task in overdue:
        instalment = Instalment.objects.get(pk=int(task.source_key.split(":")[1]))
        assert task.owner_id == instalment.contract.owner_id
        assert task.customer_id == instalment.contract.customer_id
        assert instalment.contract.number in task.title


def test_running_it_again_adds_nothing(built):
    assert built["again"] == {}
    assert built["whole_again_counts"] == built["whole_counts"]
    assert built["made"]["contracts"] == built["counts"]["contracts"]
