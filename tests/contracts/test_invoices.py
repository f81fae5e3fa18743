"""Invoices: reps request them, finance issues (or creates issued) and voids them; the rules of
amounts, tax rates, numbers, types and the contract's status."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tests.contracts import records
from tuoke.contracts import invoices
from tuoke.contracts.models import Invoice
from tuoke.core.audit import trail_of
from tuoke.core.errors import Conflict

TODAY = timezone.localdate()


def _codes(exc: ValidationError) -> dict[str, list[str]]:
    return {f: [e.code for e in errors] for f, errors in exc.error_dict.items()}


@pytest.fixture
def contract(people):
    rep = people["rep_east1"]
    return records.contract(
        rep, records.customer(rep, "腾达精密"), number="HT-INV-001", amount="100000"
    )


def test_a_rep_requests_an_invoice_and_finance_issues_it(people, contract):
    rep, finance = people["rep_east1"], people["finance1"]
    invoice = invoices.create_invoice(contract=contract, amount="56500", by=rep, note="请尽快开具")
    assert (invoice.status, invoice.kind, invoice.tax_rate) == (
        "requested",
        "vat_special",
        Decimal("13"),
    )
    assert (invoice.number, invoice.issued_on) == ("", None)
    assert (invoice.customer_id, invoice.currency) == (contract.customer_id, "CNY")
    assert invoice.tax_amount == Decimal("6500.00")
    assert trail_of(invoice).first().kind == "create"
    with pytest.raises(PermissionDenied):
        invoices.issue_invoice(invoice, number="04400001", issued_on=TODAY, by=rep)
    issued = invoices.issue_invoice(
        invoice, number="04400001", issued_on=None, by=finance, version=invoice.version
    )
    assert (issued.status, issued.number, issued.issued_on) == ("issued", "04400001", TODAY)
    with pytest.raises(ValidationError) as caught:
        invoices.issue_invoice(invoice, number="04400002", issued_on=TODAY, by=finance)
    assert _codes(caught.value) == {"status": ["invoice_status"]}


def test_finance_creates_an_issued_invoice_directly(people, contract):
    day = TODAY - timedelta(days=2)
    invoice = invoices.create_invoice(
        contract=contract,
        amount="10000",
        by=people["finance1"],
        kind="vat_normal",
        tax_rate="6",
        number="F-001",
        issued_on=day.isoformat(),
    )
    assert (invoice.status, invoice.number, invoice.issued_on) == ("issued", "F-001", day)
    # A rep may not give the number.
    with pytest.raises(ValidationError) as caught:
        invoices.create_invoice(
            contract=contract, amount="100", by=people["rep_east1"], number="F-002"
        )
    assert _codes(caught.value) == {"number": ["forbidden"]}


def test_invoices_never_add_up_to_more_than_the_contract(people, contract):
    rep, finance = people["rep_east1"], people["finance1"]
    first = invoices.create_invoice(contract=contract, amount="60000", by=rep)
    with pytest.raises(ValidationError) as caught:
        invoices.create_invoice(contract=contract, amount="40000.01", by=finance, number="X1")
    assert _codes(caught.value) == {"amount": ["over_contract"]}
    assert "¥40,000.00" in " ".join(caught.value.messages)
    second = invoices.create_invoice(contract=contract, amount="40000", by=rep)
    # A void one no longer counts.
    invoices.void_invoice(first, by=finance, reason="金额有误")
    invoices.create_invoice(contract=contract, amount="60000", by=rep)
    assert invoices.invoiced_total(contract) == Decimal("100000")
    with pytest.raises(ValidationError) as caught:
        invoices.update_invoice(second, by=rep, amount="40001")
    assert _codes(caught.value) == {"amount": ["over_contract"]}


@pytest.mark.parametrize(
    ("facts", "field", "code"),
    [
        ({"amount": "0"}, "amount", "invalid"),
        ({"amount": "-10"}, "amount", "invalid"),
        ({"amount": "十万"}, "amount", "invalid"),
        ({"tax_rate": "101"}, "tax_rate", "invalid"),
        ({"tax_rate": "-1"}, "tax_rate", "invalid"),
        ({"tax_rate": "abc"}, "tax_rate", "invalid"),
        ({"tax_rate": "6.125"}, "tax_rate", "invalid"),
        ({"kind": "receipt"}, "kind", "invalid"),
        ({"note": "x" * 501}, "note", "invalid"),
    ],
)
def test_it_checks_an_invoices_facts(people, contract, facts, field, code):
    given = {"amount": "100", **facts}
    with pytest.raises(ValidationError) as caught:
        invoices.create_invoice(contract=contract, by=people["rep_east1"], **given)
    assert _codes(caught.value) == {field: [code]}


@pytest.mark.parametrize("rate", ["13", "9", "6", "3", "1", "0", "5.5", Decimal("100")])
def test_it_accepts_any_tax_rate_from_0_to_100(people, contract, rate):
    invoice = invoices.create_invoice(
        contract=contract, amount="100", by=people["rep_east1"], tax_rate=rate
    )
    assert invoice.tax_rate == Decimal(str(rate))


def test_a_number_is_given_once_per_type_among_invoices_that_are_not_void(people, contract):
    finance = people["finance1"]
    first = invoices.create_invoice(contract=contract, amount="100", by=finance, number="N-1")
    with pytest.raises(ValidationError) as caught:
        invoices.create_invoice(contract=contract, amount="100", by=finance, number="N-1")
    assert _codes(caught.value) == {"number": ["number_taken"]}
    # Another type may have it.
    invoices.create_invoice(
        contract=contract, amount="100", by=finance, number="N-1", kind="electronic"
    )
    requested = invoices.create_invoice(contract=contract, amount="100", by=people["rep_east1"])
    with pytest.raises(ValidationError) as caught:
        invoices.issue_invoice(requested, number="N-1", issued_on=TODAY, by=finance)
    assert _codes(caught.value) == {"number": ["number_taken"]}
    invoices.void_invoice(first, by=finance, reason="作废重开")
    invoices.issue_invoice(requested, number="N-1", issued_on=TODAY, by=finance)
    assert requested.status == "issued"


def test_invoices_are_for_effective_or_completed_contracts(people):
    rep = people["rep_east1"]
    customer = records.customer(rep, "腾达精密")
    for number, status in [("HT-ID", "draft"), ("HT-IP", "pending"), ("HT-IT", "terminated")]:
        made = records.contract(rep, customer, number=number, status=status)
        with pytest.raises(ValidationError) as caught:
            invoices.create_invoice(contract=made, amount="100", by=rep)
        assert _codes(caught.value) == {"contract": ["contract_status"]}
    done = records.contract(rep, customer, number="HT-IC", status="completed")
    assert invoices.create_invoice(contract=done, amount="100", by=rep).status == "requested"


def test_only_people_reaching_the_contract_request_invoices(people, contract):
    for person in ("rep_east2", "rep_south1", "cs1", "boss"):
        with pytest.raises(PermissionDenied):
            invoices.create_invoice(contract=contract, amount="100", by=people[person])
    assert invoices.create_invoice(contract=contract, amount="100", by=people["manager_east"])


def test_finance_voids_with_a_reason(people, contract):
    finance = people["finance1"]
    invoice = invoices.create_invoice(contract=contract, amount="100", by=finance, number="V-1")
    with pytest.raises(PermissionDenied):
        invoices.void_invoice(invoice, by=people["rep_east1"], reason="错误")
    with pytest.raises(ValidationError) as caught:
        invoices.void_invoice(invoice, by=finance, reason="")
    assert _codes(caught.value) == {"reason": ["required"]}
    with pytest.raises(Conflict):
        invoices.void_invoice(invoice, by=finance, reason="抬头错误", version=invoice.version - 1)
    invoices.void_invoice(invoice, by=finance, reason="抬头错误")
    assert invoice.status == "void"
    assert trail_of(invoice).first().note == "抬头错误"
    with pytest.raises(ValidationError) as caught:
        invoices.void_invoice(invoice, by=finance, reason="再次")
    assert _codes(caught.value) == {"status": ["invoice_status"]}


def test_updates_requested_ones_freely_and_issued_ones_only_in_their_note(people, contract):
    rep, finance = people["rep_east1"], people["finance1"]
    invoice = invoices.create_invoice(contract=contract, amount="100", by=rep)
    invoices.update_invoice(
        invoice, by=rep, version=invoice.version, amount="200", kind="vat_normal", tax_rate="9"
    )
    invoice.refresh_from_db()
    assert (invoice.amount, invoice.kind, invoice.tax_rate) == (
        Decimal("200"),
        "vat_normal",
        Decimal("9"),
    )
    with pytest.raises(ValidationError) as caught:
        invoices.update_invoice(invoice, by=rep, number="Z-1")
    assert _codes(caught.value) == {"number": ["invoice_status"]}
    with pytest.raises(ValidationError) as caught:
        invoices.update_invoice(invoice, by=rep, customer=None)
    assert _codes(caught.value) == {"customer": ["invalid"]}
    # Another rep of the team may not.
    with pytest.raises(PermissionDenied):
        invoices.update_invoice(invoice, by=people["rep_east2"], note="改")
    invoices.issue_invoice(invoice, number="Z-1", issued_on=TODAY, by=finance)
    with pytest.raises(PermissionDenied):
        invoices.update_invoice(invoice, by=rep, note="已寄出")
    with pytest.raises(ValidationError) as caught:
        invoices.update_invoice(invoice, by=finance, amount="300")
    assert _codes(caught.value) == {"amount": ["invoice_status"]}
    invoices.update_invoice(invoice, by=finance, note="已寄出")
    invoice.refresh_from_db()
    assert invoice.note == "已寄出"


def test_only_requested_invoices_are_deleted(people, contract):
    rep, finance = people["rep_east1"], people["finance1"]
    requested = invoices.create_invoice(contract=contract, amount="100", by=rep)
    invoices.delete_invoice(requested, by=rep)
    assert Invoice.all_objects.get(pk=requested.pk).deleted_at is not None
    issued = invoices.create_invoice(contract=contract, amount="100", by=finance, number="D-1")
    with pytest.raises(ValidationError) as caught:
        invoices.delete_invoice(issued, by=finance)
    assert _codes(caught.value) == {"status": ["invoice_status"]}
    # The deleted request no longer counts against the contract.
    invoices.create_invoice(contract=contract, amount="99900", by=rep)


def test_invoice_writes_cost_a_bounded_number_of_queries(
    people, contract, django_assert_max_num_queries
):
    finance = people["finance1"]
    finance.refresh_from_db()
    with django_assert_max_num_queries(18):
        invoice = invoices.create_invoice(contract=contract, amount="100", by=finance, number="Q-1")
    with django_assert_max_num_queries(18):
        invoices.void_invoice(invoice, by=finance, reason="测试")
