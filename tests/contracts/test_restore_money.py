"""Money comes back from the recycle bin only as it could be recorded again: a payment within
its contract's amount (unless it was allowed as an over-payment), an invoice within what the
contract may still be invoiced; the recycle bin page says why it refuses."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.contracts import records
from tuoke.contracts import invoices, payments
from tuoke.contracts.models import Invoice, Payment, PaymentStatus
from tuoke.core import services as core_services

YESTERDAY = timezone.localdate() - timedelta(days=1)


@pytest.fixture
def contract(people):
    rep = people["rep_east1"]
    return records.contract(
        rep, records.customer(rep, "恒远物流"), number="HT-RB-1", amount="100000"
    )


def _codes(excinfo) -> set[str]:
    return {e.code for errors in excinfo.value.error_dict.values() for e in errors}


def test_a_payment_comes_back_only_within_the_contracts_amount(people, contract):
    rep, finance = people["rep_east1"], people["finance1"]
    first = payments.record_payment(
        contract=contract, amount="60000", received_on=YESTERDAY, by=rep
    )
    payments.delete_payment(first, by=rep)
    payments.record_payment(contract=contract, amount="60000", received_on=YESTERDAY, by=finance)

    with pytest.raises(ValidationError) as refused:
        core_services.restore(first, by=finance)

    assert _codes(refused) == {"over_payment"}
    assert "40,000" in str(refused.value) or "40000" in str(refused.value)
    assert Payment.all_objects.get(pk=first.pk).is_deleted
    # Within what remains it comes back, awaiting finance.
    second = payments.record_payment(
        contract=contract, amount="30000", received_on=YESTERDAY, by=rep
    )
    payments.delete_payment(second, by=rep)
    core_services.restore(second, by=finance)
    assert Payment.objects.get(pk=second.pk).status == PaymentStatus.UNCONFIRMED


def test_an_allowed_over_payment_comes_back(people, contract):
    finance = people["finance1"]
    over = payments.record_payment(
        contract=contract, amount="120000", received_on=YESTERDAY, by=finance, over_payment=True
    )
    payments.delete_payment(over, by=finance)
    payments.record_payment(contract=contract, amount="50000", received_on=YESTERDAY, by=finance)
    core_services.restore(over, by=finance)
    assert Payment.objects.filter(pk=over.pk).exists()


def test_a_rejected_payment_counts_for_nothing_and_comes_back(people, contract):
    rep, finance = people["rep_east1"], people["finance1"]
    refused = payments.record_payment(
        contract=contract, amount="50000", received_on=YESTERDAY, by=rep
    )
    payments.reject_payment(refused, by=finance, reason="款项未到账")
    payments.delete_payment(refused, by=rep)
    payments.record_payment(contract=contract, amount="50000", received_on=YESTERDAY, by=finance)
    core_services.restore(refused, by=finance)
    assert Payment.objects.get(pk=refused.pk).status == PaymentStatus.REJECTED


def test_an_invoice_comes_back_only_within_what_may_be_invoiced(people, contract):
    rep, finance = people["rep_east1"], people["finance1"]
    requested = invoices.create_invoice(contract=contract, amount="70000", by=rep)
    invoices.delete_invoice(requested, by=rep)
    invoices.create_invoice(contract=contract, amount="50000", by=rep)

    with pytest.raises(ValidationError) as refused:
        core_services.restore(requested, by=finance)
    assert _codes(refused) == {"over_contract"}
    assert Invoice.all_objects.get(pk=requested.pk).is_deleted


def test_the_recycle_bin_page_says_why(people, contract, login):
    rep, finance = people["rep_east1"], people["finance1"]
    first = payments.record_payment(
        contract=contract, amount="60000", received_on=YESTERDAY, by=rep
    )
    payments.delete_payment(first, by=rep)
    payments.record_payment(contract=contract, amount="60000", received_on=YESTERDAY, by=finance)

    response = login(finance).post(f"/recycle-bin/payment/{first.pk}/restore/")

    assert response.status_code in (200, 400)
    assert "above its amount" in response.content.decode()
    assert Payment.all_objects.get(pk=first.pk).is_deleted
