"""The benchmark data set's contracts (`tuoke bench seed --size small`): exactly the size's
contracts and payments on living signed or churned customers, owned by their owners, with
books that hold together as the payment services keep them (the large set's benchmark is
bench/contracts.py)."""

from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import F, Sum
from django.utils import timezone

from tuoke.activities import plan
from tuoke.contracts.models import (
    Contract,
    Instalment,
    Payment,
    PaymentAllocation,
    SalesCredit,
)
from tuoke.contracts.plan import OVERDUE_SOURCE, RENEWAL_SOURCE
from tuoke.core import seed
from tuoke.core.models import ExchangeRate
from tuoke.org.models import ApprovalRequest

pytestmark = pytest.mark.django_db

SMALL = seed.SIZES["small"]


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The small set, seeded once for the module, removed afterwards."""
    from django.db import transaction
    from django.test import override_settings

    hasher = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    quiet = open("/dev/null", "w")  # noqa: SIM115
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=hasher),
        transaction.atomic(),
    ):
        call_command("bench", "seed", "--size", "small", stdout=quiet)
        yield
        transaction.set_rollback(True)


def test_the_sizes_keep_the_large_sets_proportions():
    large = seed.SIZES["large"]
    assert (large.contracts, large.payments) == (200_000, 500_000)
    for size in seed.SIZES.values():
        assert size.contracts / size.customers == large.contracts / large.customers
        assert size.payments / size.contracts == large.payments / large.contracts


def test_it_writes_the_contracts_and_payments_of_the_small_set(seeded):
    contracts = Contract.all_objects.all()
    assert contracts.count() == SMALL.contracts
    assert Payment.all_objects.count() == SMALL.payments
    assert not contracts.exclude(owner=F("customer__owner")).exists()
    assert not contracts.exclude(customer__lifecycle_status__in=["signed", "churned"]).exists()
    assert contracts.values("number").distinct().count() == SMALL.contracts
    status = Counter(contracts.values_list("status", flat=True))
    assert set(status) == {"draft", "pending", "effective", "completed", "terminated"}
    assert status["effective"] + status["completed"] > SMALL.contracts * 0.7
    assert 0 < contracts.filter(deleted_at__isnull=False).count() < 10
    assert not contracts.filter(deleted_at__isnull=False).exclude(status="draft").exists()
    # Signed ones are dated and in force since; drafts and pending ones are not signed yet.
    signed = contracts.exclude(status__in=["draft", "pending"])
    assert not signed.filter(effective_at__isnull=True).exists()
    assert not signed.filter(signed_on__isnull=True).exists()
    assert not contracts.filter(status__in=["draft", "pending"], signed_on__isnull=False).exists()
    assert not contracts.filter(ends_on__lt=F("starts_on")).exists()
    closed = contracts.filter(status__in=["completed", "terminated"])
    assert not closed.filter(closed_at__isnull=True).exists()
    assert not contracts.filter(status="terminated", termination_reason="").exists()
    assert Counter(contracts.values_list("currency", flat=True))["CNY"] > SMALL.contracts * 0.85
    assert contracts.filter(opportunity__isnull=False).exists()


def test_renewals_continue_the_contract_they_renew(seeded):
    renewals = Contract.all_objects.filter(renews__isnull=False).select_related("renews")
    assert renewals.count() > SMALL.contracts * 0.1
    for renewal in renewals:
        before = renewal.renews
        assert renewal.customer_id == before.customer_id
        assert renewal.starts_on == before.ends_on + timedelta(days=1)
        assert before.status in ("effective", "completed")
        assert renewal.title.endswith("（续约）")


def test_the_books_hold_together(seeded):
    """Instalments add up to the contract; what is paid on them and received on the
    contract is what the confirmed payments matched; nothing above the contract's amount."""
    contracts = {c.pk: c for c in Contract.all_objects.all()}
    planned = defaultdict(Decimal)
    for instalment in Instalment.objects.all():
        planned[instalment.contract_id] += instalment.amount
        assert 0 <= instalment.paid_amount <= instalment.amount
    assert all(planned[pk] == c.amount for pk, c in contracts.items())
    matched = dict(
        PaymentAllocation.objects.values("instalment_id")
        .annotate(total=Sum("amount"))
        .values_list("instalment_id", "total")
    )
    for pk, paid in Instalment.objects.values_list("pk", "paid_amount"):
        assert matched.get(pk, Decimal("0")) == paid
    assert not PaymentAllocation.objects.exclude(payment__status="confirmed").exists()
    confirmed = Payment.objects.filter(status="confirmed")
    for payment in confirmed.prefetch_related("allocations__instalment"):
        matches = payment.allocations.all()
        assert sum(a.amount for a in matches) == payment.amount
        assert all(a.instalment.contract_id == payment.contract_id for a in matches)
    received = defaultdict(Decimal)
    booked = defaultdict(Decimal)
    for contract_id, amount, status in Payment.objects.values_list(
        "contract_id", "amount", "status"
    ):
        booked[contract_id] += amount
        if status == "confirmed":
            received[contract_id] += amount
    for pk, contract in contracts.items():
        assert contract.received_amount == received[pk]
        assert booked[pk] <= contract.amount
        if contract.status == "completed":
            assert contract.received_amount == contract.amount
        if contract.status in ("draft", "pending"):
            assert booked[pk] == 0
    payments = Payment.objects.all()
    assert not payments.exclude(customer=F("contract__customer")).exists()
    assert not payments.exclude(currency=F("contract__currency")).exists()
    assert not payments.filter(received_on__gt=timezone.localdate()).exists()
    unconfirmed = payments.filter(status="unconfirmed")
    assert unconfirmed.exists()
    assert not unconfirmed.filter(confirmed_by__isnull=False).exists()


def test_every_confirmed_payment_is_credited_to_the_owner(seeded):
    credits = SalesCredit.objects.select_related("payment", "contract", "owner")
    assert credits.count() == Payment.objects.filter(status="confirmed").count()
    for credit in credits:
        assert credit.cause == "payment"
        assert credit.owner_id == credit.contract.owner_id
        assert credit.unit_id == credit.owner.unit_id
        assert credit.amount == credit.payment.amount
        assert credit.credited_on == credit.payment.received_on
        if credit.currency == "CNY":
            assert credit.reporting_amount == credit.amount
        else:
            assert credit.reporting_amount > credit.amount * 7
    foreign = set(Contract.all_objects.exclude(currency="CNY").values_list("currency", flat=True))
    assert foreign <= set(ExchangeRate.objects.values_list("currency", flat=True))


def test_pending_contracts_wait_in_a_managers_queue(seeded):
    pending = Contract.objects.filter(status="pending")
    requests = ApprovalRequest.objects.filter(target="contract", status="pending")
    assert set(requests.values_list("object_id", flat=True)) == set(
        pending.values_list("pk", flat=True)
    )
    for request in requests.prefetch_related("steps__approvers").select_related("owner__unit"):
        step = request.steps.get()
        assert (step.position, step.status, request.current_step) == (1, "pending", 1)
        (approver,) = step.approvers.all()
        assert approver.pk != request.owner_id
        assert approver.pk in (request.owner.unit.manager_id, _director_id())
        assert request.actions.get().kind == "submit"


def _director_id():
    from tuoke.org.models import User

    return User.objects.get(username="director").pk


def test_the_data_set_feeds_the_plan_sources(seeded):
    from tuoke.activities.models import Task

    today = timezone.localdate()
    overdue = Instalment.objects.filter(
        contract__status="effective", due_on__lt=today, paid_amount__lt=F("amount")
    )
    assert overdue.exists()
    assert overdue.filter(due_on__lt=today - timedelta(days=90)).exists()
    run = plan.generate_plan(only=[OVERDUE_SOURCE, RENEWAL_SOURCE])
    assert run.counts[OVERDUE_SOURCE] > 0
    assert run.counts[RENEWAL_SOURCE] > 0
    assert Task.objects.filter(source=OVERDUE_SOURCE).count() == run.counts[OVERDUE_SOURCE]
