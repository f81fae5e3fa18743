"""The payments and invoices API: lists in scope with filters and a constant number of
queries; a rep's payment waiting for finance, who confirms it (matched to instalments, sales
credit only then) or rejects it; finance's own payments confirmed at once; the contract's
amount as a ceiling unless finance allows an over-payment; deletions; invoices requested by a
rep and issued or voided by finance; 403 for a visible record the caller may not act on, 404
outside his scope, 409 on a stale version."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tuoke.contracts.models import Contract, Instalment, Invoice, Payment, SalesCredit

from . import records
from .test_api import Api


@pytest.fixture
def api_of(people):
    return lambda name: Api(people[name])


def _errors(response) -> dict[str, str]:
    return {e["field"]: e["code"] for e in response.json()["errors"]}


@pytest.fixture
def mine(people, customer):
    """rep_east1's effective contract of 300,000 with instalments of 100,000 (overdue) and
    200,000."""
    today = timezone.localdate()
    return records.contract(
        people["rep_east1"],
        customer,
        number="HT-EAST-001",
        title="五轴设备采购合同",
        amount="300000",
        instalments=[
            (today - timedelta(days=5), "100000"),
            (today + timedelta(days=30), "200000"),
        ],
    )


def _instalments(contract):
    return list(contract.instalments.order_by("due_on"))


# --- Payments ---------------------------------------------------------------------------------


def test_it_lists_payments_in_scope_in_constant_queries(
    people, mine, api_of, django_assert_max_num_queries
):
    for _i in range(12):
        records.payment(mine, amount="1000", by=people["finance1"])
    for _i in range(3):
        records.payment(mine, amount="10", confirmed=False, by=people["rep_east1"])
    records.south_payment(people)
    api = api_of("rep_east1")
    api.get("/payments?page_size=2")
    with django_assert_max_num_queries(8) as few:
        small = api.get("/payments?page_size=2").json()
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = api.get("/payments?page_size=50").json()
    assert len(small["items"]) == 2 and body["count"] == 15
    assert {p["contract"]["id"] for p in body["items"]} == {mine.pk}
    confirmed = next(p for p in body["items"] if p["status"] == "confirmed")
    assert confirmed["allocations"][0]["instalment_id"] == _instalments(mine)[0].pk
    assert confirmed["confirmed_by"]["username"] == "finance1"
    assert confirmed["owner"]["username"] == "rep_east1"
    assert api.get("/payments", {"status": "unconfirmed"}).json()["count"] == 3
    finance = api_of("finance1")
    assert finance.get("/payments", {"status": "unconfirmed"}).json()["count"] == 3
    assert finance.get("/payments").json()["count"] == 16
    assert finance.get("/payments", {"owner": people["rep_south1"].pk}).json()["count"] == 1
    assert finance.get("/payments", {"contract": mine.pk}).json()["count"] == 15
    today = timezone.localdate().isoformat()
    assert (
        finance.get("/payments", {"received_from": today, "received_until": today}).json()["count"]
        == 16
    )
    assert api_of("rep_east2").get("/payments").json()["count"] == 0
    bad = finance.get("/payments", {"status": "paid", "received_from": "yesterday"})
    assert bad.status_code == 400 and {"status", "received_from"} <= set(_errors(bad))


def test_a_reps_payment_waits_for_finance_and_earns_credit_only_when_confirmed(
    people, mine, api_of
):
    rep = api_of("rep_east1")
    today = timezone.localdate().isoformat()
    recorded = rep.post(
        "/payments",
        {"contract_id": mine.pk, "amount": "150000", "received_on": today, "reference": "CMB-1"},
    )
    assert recorded.status_code == 201, recorded.json()
    payment = recorded.json()
    assert payment["status"] == "unconfirmed" and payment["allocations"] == []
    assert payment["recorded_by"]["username"] == "rep_east1"
    assert Contract.objects.get(pk=mine.pk).received_amount == 0
    assert not SalesCredit.objects.filter(contract=mine).exists()

    url = f"/payments/{payment['id']}"
    assert rep.post(f"{url}/confirm", {}).status_code == 403  # he sees it, finance confirms
    assert api_of("rep_east2").post(f"{url}/confirm", {}).status_code == 404
    finance = api_of("finance1")
    stale = finance.post(f"{url}/confirm", {"version": payment["version"] + 1})
    assert stale.status_code == 409
    first, second = _instalments(mine)
    wrong = finance.post(
        f"{url}/confirm",
        {"allocations": [{"instalment_id": records.south_instalment(people).pk, "amount": "1"}]},
    )
    assert _errors(wrong) == {"allocations.0.instalment_id": "allocation"}
    too_much = finance.post(
        f"{url}/confirm", {"allocations": [{"instalment_id": first.pk, "amount": "150000"}]}
    )
    assert _errors(too_much) == {"allocations.0.amount": "allocation"}
    confirmed = finance.post(
        f"{url}/confirm",
        {
            "version": payment["version"],
            "allocations": [
                {"instalment_id": first.pk, "amount": "100000"},
                {"instalment_id": second.pk, "amount": "50000"},
            ],
        },
    )
    assert confirmed.status_code == 200, confirmed.json()
    body = confirmed.json()
    assert body["status"] == "confirmed" and body["confirmed_by"]["username"] == "finance1"
    assert [(a["position"], a["amount"]) for a in body["allocations"]] == [
        (1, "100000.00"),
        (2, "50000.00"),
    ]
    assert Contract.objects.get(pk=mine.pk).received_amount == Decimal("150000")
    assert [i["paid_amount"] for i in rep.get(f"/contracts/{mine.pk}/instalments").json()] == [
        "100000.00",
        "50000.00",
    ]
    credit = SalesCredit.objects.get(contract=mine)
    assert (credit.owner, credit.amount) == (people["rep_east1"], Decimal("150000"))
    again = finance.post(f"{url}/confirm", {})
    assert again.status_code == 400 and _errors(again) == {"status": "not_unconfirmed"}


def test_finance_records_payments_confirmed_at_once_up_to_the_contract(people, mine, api_of):
    finance = api_of("finance1")
    today = timezone.localdate().isoformat()
    paid = finance.post(
        "/payments",
        {"contract_id": mine.pk, "amount": "120000", "received_on": today, "method": "cheque"},
    )
    assert paid.status_code == 201, paid.json()
    assert paid.json()["status"] == "confirmed" and paid.json()["method"] == "cheque"
    assert [a["amount"] for a in paid.json()["allocations"]] == ["100000.00", "20000.00"]
    over = finance.post(
        "/payments", {"contract_id": mine.pk, "amount": "180001", "received_on": today}
    )
    assert over.status_code == 400 and _errors(over) == {"amount": "over_payment"}
    allowed = finance.post(
        "/payments",
        {"contract_id": mine.pk, "amount": "180001", "received_on": today, "over_payment": True},
    )
    assert allowed.status_code == 201 and allowed.json()["over_payment"] is True
    assert Contract.objects.get(pk=mine.pk).received_amount == Decimal("300001")

    rep = api_of("rep_east1")
    flagged = rep.post(
        "/payments",
        {"contract_id": mine.pk, "amount": "1", "received_on": today, "over_payment": True},
    )
    assert _errors(flagged) == {"over_payment": "forbidden"}
    matched = rep.post(
        "/payments",
        {
            "contract_id": mine.pk,
            "amount": "1",
            "received_on": today,
            "allocations": [{"instalment_id": _instalments(mine)[0].pk, "amount": "1"}],
        },
    )
    assert "allocations" in _errors(matched)


def test_payments_are_refused_for_contracts_out_of_reach_or_not_in_force(
    people, mine, draft, api_of
):
    rep = api_of("rep_east1")
    today = timezone.localdate()
    body = {"amount": "1", "received_on": today.isoformat()}
    south = records.south_contract(people)
    out = rep.post("/payments", {**body, "contract_id": south.pk})
    assert out.status_code == 400 and _errors(out) == {"contract_id": "invalid"}
    assert "南方" not in out.content.decode()
    not_yet = rep.post("/payments", {**body, "contract_id": draft.pk})
    assert _errors(not_yet) == {"contract_id": "contract_status"}
    future = rep.post(
        "/payments",
        {
            "contract_id": mine.pk,
            "amount": "1",
            "received_on": (today + timedelta(days=2)).isoformat(),
        },
    )
    assert _errors(future) == {"received_on": "future"}
    missing = rep.post("/payments", {"contract_id": mine.pk})
    assert {"amount", "received_on"} <= set(_errors(missing))
    zero = rep.post("/payments", {**body, "contract_id": mine.pk, "amount": "0"})
    assert _errors(zero) == {"amount": "invalid"}
    assert api_of("cs1").post("/payments", {**body, "contract_id": mine.pk}).status_code == 403
    assert not Payment.objects.filter(contract=mine).exists()


def test_finance_rejects_a_payment_with_a_reason(people, mine, api_of):
    payment = records.payment(mine, amount="5000", confirmed=False, by=people["rep_east1"])
    url = f"/payments/{payment.pk}/reject"
    assert api_of("rep_east1").post(url, {"reason": "x"}).status_code == 403
    finance = api_of("finance1")
    assert _errors(finance.post(url, {})) == {"reason": "required"}
    assert finance.post(url, {"reason": "x", "version": payment.version + 1}).status_code == 409
    rejected = finance.post(url, {"reason": "银行流水中未找到这笔款"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert _errors(finance.post(url, {"reason": "again"})) == {"status": "not_unconfirmed"}
    assert api_of("rep_east1").get(f"/payments/{payment.pk}").json()["status"] == "rejected"


def test_who_deletes_which_payment(people, mine, api_of):
    waiting = records.payment(mine, amount="5000", confirmed=False, by=people["rep_east1"])
    confirmed = records.payment(mine, amount="100000", by=people["finance1"])
    rep = api_of("rep_east1")
    assert rep.get(f"/payments/{waiting.pk}").status_code == 200
    assert api_of("rep_east2").delete(f"/payments/{waiting.pk}").status_code == 404
    assert rep.delete(f"/payments/{confirmed.pk}").status_code == 403
    assert rep.delete(f"/payments/{waiting.pk}").status_code == 204
    assert rep.get(f"/payments/{waiting.pk}").status_code == 404
    assert api_of("finance1").delete(f"/payments/{confirmed.pk}").status_code == 204
    assert Contract.objects.get(pk=mine.pk).received_amount == 0
    assert all(i.paid_amount == 0 for i in Instalment.objects.filter(contract=mine))


# --- Invoices ---------------------------------------------------------------------------------


def test_it_lists_invoices_in_scope_in_constant_queries(
    people, mine, api_of, django_assert_max_num_queries
):
    for i in range(10):
        records.invoice(mine, amount="1000", number=f"INV{i:04d}")
    records.invoice(mine, amount="500", status="requested")
    records.south_invoice(people)
    api = api_of("rep_east1")
    api.get("/invoices?page_size=2")
    with django_assert_max_num_queries(7) as few:
        small = api.get("/invoices?page_size=2").json()
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = api.get("/invoices?page_size=50").json()
    assert len(small["items"]) == 2 and body["count"] == 11
    issued = next(i for i in body["items"] if i["number"] == "INV0003")
    assert (issued["amount"], issued["tax_rate"], issued["tax_amount"]) == (
        "1000.00",
        "13.00",
        "115.04",
    )
    assert issued["kind"] == "vat_special" and issued["contract"]["id"] == mine.pk
    finance = api_of("finance1")
    assert finance.get("/invoices").json()["count"] == 12
    assert finance.get("/invoices", {"status": "requested"}).json()["count"] == 1
    assert finance.get("/invoices", {"q": "INV000"}).json()["count"] == 10
    assert finance.get("/invoices", {"owner": people["rep_south1"].pk}).json()["count"] == 1
    today = timezone.localdate().isoformat()
    assert finance.get("/invoices", {"issued_from": today}).json()["count"] == 11
    assert finance.get("/invoices", {"kind": "vat_normal"}).json()["count"] == 0
    bad = finance.get("/invoices", {"kind": "receipt"})
    assert bad.status_code == 400 and "kind" in _errors(bad)


def test_a_rep_requests_an_invoice_and_finance_issues_or_voids_it(people, mine, api_of):
    rep = api_of("rep_east1")
    requested = rep.post(
        "/invoices", {"contract_id": mine.pk, "amount": "113000", "kind": "vat_normal"}
    )
    assert requested.status_code == 201, requested.json()
    invoice = requested.json()
    assert (invoice["status"], invoice["number"], invoice["issued_on"]) == ("requested", "", None)
    assert invoice["requested_by"]["username"] == "rep_east1"
    url = f"/invoices/{invoice['id']}"
    numbered = rep.post("/invoices", {"contract_id": mine.pk, "amount": "1", "number": "X1"})
    assert _errors(numbered) == {"number": "forbidden"}
    too_much = rep.post("/invoices", {"contract_id": mine.pk, "amount": "200000"})
    assert too_much.status_code == 400 and "amount" in _errors(too_much)
    south = rep.post("/invoices", {"contract_id": records.south_contract(people).pk, "amount": "1"})
    assert _errors(south) == {"contract_id": "invalid"}

    changed = rep.patch(url, {"version": invoice["version"], "amount": "100000"})
    assert changed.status_code == 200 and changed.json()["amount"] == "100000.00"
    assert rep.patch(url, {"version": invoice["version"], "note": "x"}).status_code == 409
    assert rep.post(f"{url}/issue", {"number": "1"}).status_code == 403
    assert api_of("rep_east2").post(f"{url}/issue", {"number": "1"}).status_code == 404

    finance = api_of("finance1")
    assert _errors(finance.post(f"{url}/issue", {})) == {"number": "required"}
    issued = finance.post(
        f"{url}/issue", {"number": "04400261120012345678", "issued_on": "2026-08-01"}
    )
    assert issued.status_code == 200, issued.json()
    assert (issued.json()["status"], issued.json()["issued_on"]) == ("issued", "2026-08-01")
    version = issued.json()["version"]
    late = finance.patch(url, {"version": version, "amount": "1"})
    assert _errors(late) == {"amount": "invoice_status"}
    assert rep.patch(url, {"version": version, "note": "x"}).status_code == 403
    noted = finance.patch(url, {"version": version, "note": "已寄出"})
    assert noted.status_code == 200 and noted.json()["note"] == "已寄出"
    assert _errors(finance.delete(url)) == {"status": "invoice_status"}
    assert _errors(finance.post(f"{url}/void", {})) == {"reason": "required"}
    assert rep.post(f"{url}/void", {"reason": "x"}).status_code == 403
    voided = finance.post(f"{url}/void", {"reason": "抬头开错", "version": noted.json()["version"]})
    assert voided.status_code == 200 and voided.json()["status"] == "void"
    assert _errors(finance.post(f"{url}/void", {"reason": "again"})) == {"status": "invoice_status"}


def test_a_requested_invoice_is_withdrawn_by_its_requester(people, mine, api_of):
    invoice = api_of("rep_east1").post("/invoices", {"contract_id": mine.pk, "amount": "1000"})
    url = f"/invoices/{invoice.json()['id']}"
    assert api_of("manager_east").delete(url).status_code == 403
    assert api_of("rep_east1").delete(url).status_code == 204
    assert api_of("rep_east1").get(url).status_code == 404
    assert Invoice.all_objects.get(pk=invoice.json()["id"]).deleted_at is not None


def test_finance_issues_an_invoice_at_once(people, mine, api_of):
    response = api_of("finance1").post(
        "/invoices",
        {"contract_id": mine.pk, "amount": "5000", "number": "FIN0001", "tax_rate": "6"},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["tax_rate"], body["tax_amount"]) == ("issued", "6.00", "283.02")
    assert body["issued_on"] == timezone.localdate().isoformat()
