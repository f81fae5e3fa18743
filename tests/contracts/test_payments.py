"""Payment plans and payments: the plan's rules, recording by finance and by reps, finance's
confirmation and rejection, matching to instalments (by hand and oldest due first), partial
payments, over-payments, deletion and the customer's lifecycle."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tests.contracts import records
from tuoke.contracts import payments
from tuoke.contracts.models import Contract, Instalment, Payment, PaymentAllocation
from tuoke.core.audit import trail_of
from tuoke.core.errors import Conflict
from tuoke.core.models import Notification
from tuoke.customers.models import LifecycleStatus

TODAY = timezone.localdate()


def _codes(exc: ValidationError) -> dict[str, list[str]]:
    return {f: [e.code for e in errors] for f, errors in exc.error_dict.items()}


def _messages(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@pytest.fixture
def customer(people):
    return records.customer(people["rep_east1"], "腾达精密")


@pytest.fixture
def contract(people, customer):
    """rep_east1's effective contract of ¥300,000 in three instalments of ¥100,000."""
    return records.contract(
        people["rep_east1"],
        customer,
        number="HT-EAST-001",
        amount="300000",
        instalments=[
            (TODAY - timedelta(days=40), "100000"),
            (TODAY - timedelta(days=10), "100000"),
            (TODAY + timedelta(days=50), "100000"),
        ],
    )


def _plan(contract):
    return [
        (i.position, i.amount, i.paid_amount)
        for i in Instalment.objects.filter(contract=contract).order_by("position")
    ]


def _received(contract):
    contract.refresh_from_db()
    return contract.received_amount


# --- Payment plans ------------------------------------------------------------------------------


def test_it_replaces_a_plan_keeping_changing_adding_and_removing_instalments(people, contract):
    first, second, third = contract.instalments.order_by("position")
    version = contract.version
    plan = payments.set_payment_plan(
        contract,
        by=people["rep_east1"],
        version=version,
        instalments=[
            {"id": third.pk, "due_on": TODAY + timedelta(days=90), "amount": "120000"},
            {"due_on": (TODAY - timedelta(days=60)).isoformat(), "amount": "50000", "note": "定金"},
            {"id": first.pk, "due_on": TODAY - timedelta(days=40), "amount": "100000"},
        ],
    )
    assert [(i.position, i.amount, i.note) for i in plan] == [
        (1, Decimal("50000"), "定金"),
        (2, Decimal("100000"), ""),
        (3, Decimal("120000"), ""),
    ]
    assert plan[1].pk == first.pk and plan[2].pk == third.pk
    # The one left out is in the bin, not gone.
    assert Instalment.all_objects.get(pk=second.pk).deleted_at is not None
    contract.refresh_from_db()
    assert contract.version == version + 1
    entry = trail_of(contract).first()
    assert entry.kind == "update"
    assert entry.actor == people["rep_east1"]
    change = entry.changes[0]
    assert change["field"] == "instalments"
    assert "¥100,000.00" in change["old"] and "¥120,000.00" in change["new"]
    assert "(定金)" in change["new"]


def test_it_refuses_a_plan_above_the_contract_saying_by_how_much(people, contract):
    with pytest.raises(ValidationError) as caught:
        payments.set_payment_plan(
            contract,
            by=people["rep_east1"],
            instalments=[
                {"due_on": TODAY, "amount": "200000"},
                {"due_on": TODAY + timedelta(days=30), "amount": "150000"},
            ],
        )
    assert _codes(caught.value) == {"instalments": ["plan_total"]}
    assert "¥50,000.00" in _messages(caught.value)
    assert len(_plan(contract)) == 3


@pytest.mark.parametrize(
    ("entry", "field", "code"),
    [
        ({"due_on": TODAY, "amount": "0"}, "instalments.0.amount", "invalid"),
        ({"due_on": TODAY, "amount": "-5"}, "instalments.0.amount", "invalid"),
        ({"due_on": TODAY, "amount": "abc"}, "instalments.0.amount", "invalid"),
        ({"due_on": TODAY}, "instalments.0.amount", "required"),
        ({"amount": "100"}, "instalments.0.due_on", "required"),
        ({"due_on": "31/12/2025", "amount": "100"}, "instalments.0.due_on", "invalid"),
        ({"id": 999999, "due_on": TODAY, "amount": "100"}, "instalments.0.id", "invalid"),
    ],
)
def test_it_names_the_instalment_in_errors(people, contract, entry, field, code):
    with pytest.raises(ValidationError) as caught:
        payments.set_payment_plan(contract, by=people["rep_east1"], instalments=[entry])
    assert _codes(caught.value) == {field: [code]}


def test_it_keeps_instalments_that_received_money(people, contract):
    records.payment(contract, amount="130000", by=people["finance1"])
    first, second, _third = contract.instalments.order_by("position")
    assert (first.paid_amount, second.paid_amount) == (Decimal("100000"), Decimal("30000"))
    with pytest.raises(ValidationError) as caught:
        payments.set_payment_plan(
            contract,
            by=people["rep_east1"],
            instalments=[{"id": first.pk, "due_on": first.due_on, "amount": "100000"}],
        )
    assert _codes(caught.value) == {"instalments": ["paid"]}
    with pytest.raises(ValidationError) as caught:
        payments.set_payment_plan(
            contract,
            by=people["rep_east1"],
            instalments=[
                {"id": first.pk, "due_on": first.due_on, "amount": "100000"},
                {"id": second.pk, "due_on": second.due_on, "amount": "20000"},
            ],
        )
    assert _codes(caught.value) == {"instalments.1.amount": ["paid"]}
    assert "¥30,000.00" in _messages(caught.value)
    # Down to what it received, and the unpaid one removed: fine.
    plan = payments.set_payment_plan(
        contract,
        by=people["rep_east1"],
        instalments=[
            {"id": first.pk, "due_on": first.due_on, "amount": "100000"},
            {"id": second.pk, "due_on": second.due_on, "amount": "30000"},
        ],
    )
    assert [(i.amount, i.paid_amount) for i in plan] == [
        (Decimal("100000"), Decimal("100000")),
        (Decimal("30000"), Decimal("30000")),
    ]


def test_it_refuses_plans_of_pending_terminated_and_completed_contracts(people, customer):
    for number, status, code in [
        ("HT-P", "pending", "locked"),
        ("HT-T", "terminated", "contract_status"),
        ("HT-C", "completed", "contract_status"),
    ]:
        made = records.contract(people["rep_east1"], customer, number=number, status=status)
        with pytest.raises(ValidationError) as caught:
            payments.set_payment_plan(
                made, by=people["rep_east1"], instalments=[{"due_on": TODAY, "amount": "1"}]
            )
        assert [e.code for errors in caught.value.error_dict.values() for e in errors] == [code]
    pending = Contract.objects.get(number="HT-P")
    with pytest.raises(ValidationError) as caught:
        payments.set_payment_plan(pending, by=people["rep_east1"], instalments=[])
    assert "pending approval" in _messages(caught.value)


def test_it_sets_the_plan_of_a_draft(people, customer):
    draft = records.contract(people["rep_east1"], customer, number="HT-D", status="draft")
    plan = payments.set_payment_plan(
        draft,
        by=people["rep_east1"],
        instalments=[
            {"due_on": TODAY + timedelta(days=30), "amount": "40000"},
            {"due_on": TODAY, "amount": "60000"},
        ],
    )
    assert [(i.position, i.amount, i.due_on) for i in plan] == [
        (1, Decimal("60000"), TODAY),
        (2, Decimal("40000"), TODAY + timedelta(days=30)),
    ]


def test_it_detects_a_stale_plan_and_checks_who_edits(people, contract):
    with pytest.raises(Conflict):
        payments.set_payment_plan(
            contract, by=people["rep_east1"], version=contract.version - 1, instalments=[]
        )
    with pytest.raises(PermissionDenied):
        payments.set_payment_plan(contract, by=people["rep_east2"], instalments=[])
    # His manager may.
    payments.set_payment_plan(
        contract,
        by=people["manager_east"],
        instalments=[{"due_on": TODAY, "amount": "300000"}],
    )
    assert _plan(contract) == [(1, Decimal("300000"), Decimal("0"))]


def test_an_unchanged_plan_writes_nothing(people, contract):
    version = contract.version
    entries = [
        {"id": i.pk, "due_on": i.due_on, "amount": i.amount}
        for i in contract.instalments.order_by("position")
    ]
    payments.set_payment_plan(contract, by=people["rep_east1"], instalments=entries)
    contract.refresh_from_db()
    assert contract.version == version
    assert not trail_of(contract).exists()


# --- Finance records payments -------------------------------------------------------------------


def test_finance_records_a_confirmed_payment_matched_oldest_first(people, contract):
    finance = people["finance1"]
    payment = payments.record_payment(
        contract=contract,
        amount="150000",
        received_on=TODAY,
        by=finance,
        reference="BANK-778",
    )
    assert payment.status == "confirmed"
    assert payment.confirmed_by == finance and payment.confirmed_at is not None
    assert (payment.currency, payment.customer_id) == ("CNY", contract.customer_id)
    assert _plan(contract) == [
        (1, Decimal("100000"), Decimal("100000")),
        (2, Decimal("100000"), Decimal("50000")),
        (3, Decimal("100000"), Decimal("0")),
    ]
    assert contract.received_amount == Decimal("150000")
    assert _received(contract) == Decimal("150000")
    assert sorted(payment.allocations.values_list("amount", flat=True)) == [
        Decimal("50000"),
        Decimal("100000"),
    ]
    assert trail_of(payment).first().kind == "create"


def test_partial_payments_leave_an_instalment_partly_paid_and_then_finish_it(people, contract):
    finance = people["finance1"]
    payments.record_payment(contract=contract, amount="30000", received_on=TODAY, by=finance)
    assert _plan(contract)[0] == (1, Decimal("100000"), Decimal("30000"))
    payments.record_payment(contract=contract, amount="70000", received_on=TODAY, by=finance)
    assert _plan(contract)[:2] == [
        (1, Decimal("100000"), Decimal("100000")),
        (2, Decimal("100000"), Decimal("0")),
    ]
    assert _received(contract) == Decimal("100000")


def test_finance_matches_by_hand(people, contract):
    _first, second, third = contract.instalments.order_by("position")
    payment = payments.record_payment(
        contract=contract,
        amount="120000",
        received_on=TODAY,
        by=people["finance1"],
        allocations=[
            {"instalment": third.pk, "amount": "100000"},
            {"instalment": second, "amount": "20000"},
        ],
    )
    assert _plan(contract) == [
        (1, Decimal("100000"), Decimal("0")),
        (2, Decimal("100000"), Decimal("20000")),
        (3, Decimal("100000"), Decimal("100000")),
    ]
    assert PaymentAllocation.objects.filter(payment=payment).count() == 2


@pytest.mark.parametrize(
    ("allocations", "field"),
    [
        # More than the instalment still awaits.
        ([{"instalment": "third", "amount": "100000.01"}], "allocations.0.amount"),
        # Not the whole payment while instalments are open.
        ([{"instalment": "third", "amount": "50000"}], "allocations"),
        # More than the payment.
        (
            [
                {"instalment": "first", "amount": "100000"},
                {"instalment": "third", "amount": "40000"},
            ],
            "allocations",
        ),
        ([{"instalment": 999999, "amount": "1"}], "allocations.0.instalment"),
        (
            [
                {"instalment": "first", "amount": "50000"},
                {"instalment": "first", "amount": "50000"},
            ],
            "allocations.1.instalment",
        ),
    ],
)
def test_it_refuses_allocations_that_do_not_fit(people, contract, allocations, field):
    named = dict(
        zip(("first", "second", "third"), contract.instalments.order_by("position"), strict=False)
    )
    given = [{**a, "instalment": named.get(a["instalment"], a["instalment"])} for a in allocations]
    with pytest.raises(ValidationError) as caught:
        payments.record_payment(
            contract=contract,
            amount="100000",
            received_on=TODAY,
            by=people["finance1"],
            allocations=given,
        )
    assert _codes(caught.value) == {field: ["allocation"]}
    assert not Payment.objects.filter(contract=contract).exists()
    assert _received(contract) == 0


def test_money_beyond_every_instalment_stays_unmatched(people, customer):
    made = records.contract(
        people["rep_east1"],
        customer,
        number="HT-PART",
        amount="100000",
        instalments=[(TODAY, "60000")],
    )
    only = made.instalments.get()
    # By hand: the rest may stay unmatched once no instalment is left open.
    payments.record_payment(
        contract=made,
        amount="80000",
        received_on=TODAY,
        by=people["finance1"],
        allocations=[{"instalment": only.pk, "amount": "60000"}],
    )
    only.refresh_from_db()
    assert only.paid_amount == Decimal("60000")
    assert _received(made) == Decimal("80000")
    # Oldest first: nothing left to match.
    payment = payments.record_payment(
        contract=made, amount="20000", received_on=TODAY, by=people["finance1"]
    )
    assert not payment.allocations.exists()
    assert _received(made) == Decimal("100000")


@pytest.mark.parametrize(
    ("facts", "field", "code"),
    [
        ({"amount": "0"}, "amount", "invalid"),
        ({"amount": "-1"}, "amount", "invalid"),
        ({"amount": ""}, "amount", "required"),
        ({"received_on": None}, "received_on", "required"),
        ({"received_on": TODAY + timedelta(days=1)}, "received_on", "future"),
        ({"method": "bitcoin"}, "method", "invalid"),
        ({"reference": "x" * 101}, "reference", "invalid"),
    ],
)
def test_it_checks_a_payments_facts(people, contract, facts, field, code):
    given = {"amount": "100", "received_on": TODAY, **facts}
    with pytest.raises(ValidationError) as caught:
        payments.record_payment(contract=contract, by=people["finance1"], **given)
    assert _codes(caught.value) == {field: [code]}


def test_payments_are_for_effective_or_completed_contracts(people, customer):
    draft = records.contract(people["rep_east1"], customer, number="HT-D2", status="draft")
    with pytest.raises(ValidationError) as caught:
        payments.record_payment(
            contract=draft, amount="100", received_on=TODAY, by=people["finance1"]
        )
    assert _codes(caught.value) == {"contract": ["contract_status"]}
    done = records.contract(people["rep_east1"], customer, number="HT-C2", status="completed")
    payments.record_payment(contract=done, amount="100", received_on=TODAY, by=people["finance1"])
    assert _received(done) == Decimal("100")


def test_over_payment_is_refused_unless_finance_allows_it(people, contract):
    finance = people["finance1"]
    rep = people["rep_east1"]
    payments.record_payment(contract=contract, amount="200000", received_on=TODAY, by=finance)
    # One awaiting finance counts too.
    payments.record_payment(contract=contract, amount="50000", received_on=TODAY, by=rep)
    with pytest.raises(ValidationError) as caught:
        payments.record_payment(contract=contract, amount="60000", received_on=TODAY, by=rep)
    assert _codes(caught.value) == {"amount": ["over_payment"]}
    assert "¥50,000.00" in _messages(caught.value)
    with pytest.raises(ValidationError) as caught:
        payments.record_payment(
            contract=contract, amount="60000", received_on=TODAY, by=rep, over_payment=True
        )
    assert _codes(caught.value) == {"over_payment": ["forbidden"]}
    with pytest.raises(ValidationError):
        payments.record_payment(contract=contract, amount="60000", received_on=TODAY, by=finance)
    made = payments.record_payment(
        contract=contract, amount="60000", received_on=TODAY, by=finance, over_payment=True
    )
    assert made.over_payment is True
    assert _received(contract) == Decimal("260000")


# --- Reps record, finance confirms --------------------------------------------------------------


def test_a_reps_payment_awaits_finance_who_is_told_and_then_confirms_it(people, contract):
    rep, finance = people["rep_east1"], people["finance1"]
    payment = payments.record_payment(
        contract=contract, amount="120000", received_on=TODAY - timedelta(days=1), by=rep
    )
    assert payment.status == "unconfirmed"
    assert payment.confirmed_by is None
    # Not received yet.
    assert _received(contract) == 0
    assert _plan(contract)[0][2] == 0
    told = Notification.objects.get(recipient=finance)
    assert told.kind == "payment"
    assert "¥120,000.00" in told.title and "HT-EAST-001" in told.title
    assert not Notification.objects.filter(recipient=rep).exists()

    confirmed = payments.confirm_payment(payment, by=finance, version=payment.version)
    assert confirmed.status == "confirmed"
    assert confirmed.confirmed_by == finance
    assert _received(contract) == Decimal("120000")
    assert _plan(contract) == [
        (1, Decimal("100000"), Decimal("100000")),
        (2, Decimal("100000"), Decimal("20000")),
        (3, Decimal("100000"), Decimal("0")),
    ]
    assert Notification.objects.filter(recipient=rep, kind="payment").exists()
    assert [e.kind for e in trail_of(payment)] == ["update", "create"]


def test_finance_confirms_with_allocations(people, contract):
    payment = payments.record_payment(
        contract=contract, amount="100000", received_on=TODAY, by=people["rep_east1"]
    )
    third = contract.instalments.order_by("position").last()
    payments.confirm_payment(
        payment,
        by=people["finance1"],
        allocations=[{"instalment_id": third.pk, "amount": "100000"}],
    )
    assert [p[2] for p in _plan(contract)] == [0, 0, Decimal("100000")]


def test_a_rep_cannot_match_confirm_or_reject(people, contract):
    rep = people["rep_east1"]
    first = contract.instalments.order_by("position").first()
    with pytest.raises(ValidationError) as caught:
        payments.record_payment(
            contract=contract,
            amount="100",
            received_on=TODAY,
            by=rep,
            allocations=[{"instalment": first.pk, "amount": "100"}],
        )
    assert _codes(caught.value) == {"allocations": ["forbidden"]}
    payment = payments.record_payment(contract=contract, amount="100", received_on=TODAY, by=rep)
    for person in ("rep_east1", "manager_east", "boss"):
        with pytest.raises(PermissionDenied):
            payments.confirm_payment(payment, by=people[person])
        with pytest.raises(PermissionDenied):
            payments.reject_payment(payment, by=people[person], reason="没到账")
    payment.refresh_from_db()
    assert payment.status == "unconfirmed"


def test_only_people_reaching_the_contract_record_payments(people, contract):
    for person in ("rep_east2", "rep_south1", "manager_south", "cs1"):
        with pytest.raises(PermissionDenied):
            payments.record_payment(
                contract=contract, amount="100", received_on=TODAY, by=people[person]
            )
    # His manager may; it awaits finance.
    made = payments.record_payment(
        contract=contract, amount="100", received_on=TODAY, by=people["manager_east"]
    )
    assert made.status == "unconfirmed"


def test_finance_rejects_a_payment_with_a_reason(people, contract):
    rep, finance = people["rep_east1"], people["finance1"]
    payment = payments.record_payment(contract=contract, amount="500", received_on=TODAY, by=rep)
    with pytest.raises(ValidationError) as caught:
        payments.reject_payment(payment, by=finance, reason="  ")
    assert _codes(caught.value) == {"reason": ["required"]}
    payments.reject_payment(payment, by=finance, reason="银行未到账")
    assert payment.status == "rejected"
    entry = trail_of(payment).first()
    assert entry.note == "银行未到账"
    told = Notification.objects.filter(recipient=rep).get()
    assert "银行未到账" in told.title
    # Decided: neither confirmed nor rejected again.
    with pytest.raises(ValidationError) as caught:
        payments.confirm_payment(payment, by=finance)
    assert _codes(caught.value) == {"status": ["not_unconfirmed"]}
    # A rejected payment no longer counts against the contract's amount.
    payments.record_payment(contract=contract, amount="300000", received_on=TODAY, by=rep)


def test_confirming_detects_a_stale_version(people, contract):
    payment = payments.record_payment(
        contract=contract, amount="500", received_on=TODAY, by=people["rep_east1"]
    )
    with pytest.raises(Conflict):
        payments.confirm_payment(payment, by=people["finance1"], version=payment.version + 1)


def test_the_first_confirmed_payment_signs_the_customer(people, contract, customer):
    assert customer.lifecycle_status != LifecycleStatus.SIGNED
    payment = payments.record_payment(
        contract=contract, amount="500", received_on=TODAY, by=people["rep_east1"]
    )
    customer.refresh_from_db()
    assert customer.lifecycle_status != LifecycleStatus.SIGNED
    payments.confirm_payment(payment, by=people["finance1"])
    customer.refresh_from_db()
    assert customer.lifecycle_status == LifecycleStatus.SIGNED
    change = customer.lifecycle_changes.order_by("-pk").first()
    assert change.cause == "first_payment"


def test_confirmation_sends_the_signal(people, contract):
    seen = []

    def receiver(sender, payment, by, **kwargs):
        seen.append((payment.pk, by))

    payments.payment_confirmed.connect(receiver)
    try:
        rep_payment = payments.record_payment(
            contract=contract, amount="500", received_on=TODAY, by=people["rep_east1"]
        )
        assert seen == []
        payments.confirm_payment(rep_payment, by=people["finance1"])
        direct = payments.record_payment(
            contract=contract, amount="500", received_on=TODAY, by=people["finance1"]
        )
    finally:
        payments.payment_confirmed.disconnect(receiver)
    assert seen == [(rep_payment.pk, people["finance1"]), (direct.pk, people["finance1"])]


# --- Deleting payments --------------------------------------------------------------------------


def test_the_recorder_deletes_his_unconfirmed_payment_but_not_anothers(people, contract):
    payment = payments.record_payment(
        contract=contract, amount="500", received_on=TODAY, by=people["rep_east1"]
    )
    with pytest.raises(PermissionDenied):
        payments.delete_payment(payment, by=people["manager_east"])
    payments.delete_payment(payment, by=people["rep_east1"])
    assert Payment.all_objects.get(pk=payment.pk).deleted_at is not None
    assert payments.record_payment(
        contract=contract, amount="300000", received_on=TODAY, by=people["rep_east1"]
    )


def test_only_finance_deletes_a_confirmed_payment_which_undoes_it(people, contract):
    finance = people["finance1"]
    payment = payments.record_payment(
        contract=contract, amount="150000", received_on=TODAY, by=people["rep_east1"]
    )
    payments.confirm_payment(payment, by=finance)
    with pytest.raises(PermissionDenied):
        payments.delete_payment(payment, by=people["rep_east1"])
    payments.delete_payment(payment, by=finance)
    assert _received(contract) == 0
    assert [p[2] for p in _plan(contract)] == [0, 0, 0]
    assert not PaymentAllocation.objects.filter(payment=payment).exists()
    gone = Payment.all_objects.get(pk=payment.pk)
    assert gone.deleted_at is not None
    # Restored from the bin it awaits finance again.
    assert gone.status == "unconfirmed"
    assert [e.kind for e in trail_of(gone)][:2] == ["delete", "update"]


def test_payment_functions_cost_a_bounded_number_of_queries(
    people, contract, django_assert_max_num_queries
):
    finance = people["finance1"]
    records.payment(contract, amount="1", by=finance)  # the customer is signed already
    finance.refresh_from_db()
    with django_assert_max_num_queries(26):
        payments.record_payment(contract=contract, amount="150000", received_on=TODAY, by=finance)
    entries = [{"due_on": TODAY + timedelta(days=n), "amount": "1000"} for n in range(24)]
    rep = people["rep_east1"]
    with pytest.raises(ValidationError):
        payments.set_payment_plan(contract, by=rep, instalments=entries)  # paid ones removed
    draft = records.contract(rep, contract.customer, number="HT-Q", status="draft")
    with django_assert_max_num_queries(14):
        payments.set_payment_plan(draft, by=rep, instalments=entries)
    changed = [
        {"id": i.pk, "due_on": i.due_on + timedelta(days=1), "amount": "2000"}
        for i in draft.instalments.all()
    ]
    with django_assert_max_num_queries(14):
        payments.set_payment_plan(draft, by=rep, instalments=changed)
    assert Instalment.objects.filter(contract=draft, amount=Decimal("2000")).count() == 24
