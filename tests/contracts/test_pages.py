"""The contract pages: drafting from a won opportunity (with its payment plan), the contract's
page and the actions it offers, the approval lock (a pending contract cannot be edited),
the payment plan, payments (a rep's wait for finance), invoices, attachments and renewals;
out-of-scope contracts answer 404."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tests.contracts import records
from tests.sales import records as sales_records
from tuoke.contracts.models import Contract, ContractAttachment, Invoice, Payment
from tuoke.org import approvals
from tuoke.org.models import ApprovalFlow

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def large_flow():
    """The default flow for contracts of 500,000 or more: manager, director, finance."""
    flow = ApprovalFlow.objects.filter(target="contract", name="大额合同审批").first()
    if flow is None or flow.steps.count() < 3:
        ApprovalFlow.all_objects.filter(target="contract").delete()
        flow = records.flow()
    return flow


@pytest.fixture
def flow(db):
    return large_flow()


@pytest.fixture
def customer(rep_east):
    return records.customer(rep_east, "东方电子")


@pytest.fixture
def won(rep_east, customer):
    from tuoke.sales.services import win

    sales_records.pipeline()
    opp = sales_records.opportunity(rep_east, customer, title="产线改造", amount="800000")
    return win(opp, by=rep_east, note="签约")


def _draft(rep_east, customer, *, amount="100000", number="HT-EAST-001", **kwargs):
    return records.contract(
        rep_east, customer, number=number, amount=amount, status="draft", **kwargs
    )


def _effective(rep_east, customer, **kwargs):
    today = timezone.localdate()
    kwargs.setdefault(
        "instalments", [(today - timedelta(days=5), "60000"), (today + timedelta(days=30), "40000")]
    )
    return records.contract(rep_east, customer, number="HT-EAST-009", **kwargs)


def _plan(*rows):
    data = {
        "instalments-TOTAL_FORMS": str(len(rows)),
        "instalments-INITIAL_FORMS": "0",
        "instalments-MIN_NUM_FORMS": "0",
        "instalments-MAX_NUM_FORMS": "60",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"instalments-{index}-{key}"] = value
    return data


def _problems(response) -> str:
    return response.content.decode()


# --- Drafting -----------------------------------------------------------------------------------


def test_it_drafts_the_contract_of_a_won_opportunity_with_its_payment_plan(
    login, rep_east, customer, won
):
    client = login(rep_east)
    url = reverse("contracts:contract_create") + f"?opportunity={won.pk}"
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["title"] == "产线改造"
    assert form.initial["amount"] == Decimal("800000")
    assert form.initial["opportunity"] == won.pk
    assert page.context["customer"] == customer
    today = timezone.localdate()
    response = client.post(
        url,
        {
            "customer": customer.pk,
            "from_opportunity": won.pk,
            "title": "产线改造合同",
            "opportunity": won.pk,
            "amount": "800000",
            "currency": "CNY",
            "starts_on": today.isoformat(),
            "ends_on": (today + timedelta(days=364)).isoformat(),
            **_plan(
                {"due_on": (today - timedelta(days=3)).isoformat(), "amount": "500000"},
                {"due_on": (today + timedelta(days=60)).isoformat(), "amount": "300000"},
                {},  # a blank row is left out
            ),
        },
    )
    contract = Contract.objects.get(title="产线改造合同")
    assert response.status_code == 302
    assert response["Location"] == reverse("contracts:contract_detail", args=[contract.pk])
    assert contract.status == "draft"
    assert contract.opportunity == won
    assert contract.owner == rep_east
    assert contract.number.startswith("HT")
    assert [i.amount for i in contract.instalments.order_by("position")] == [
        Decimal("500000"),
        Decimal("300000"),
    ]


def test_it_asks_for_the_customer_first_and_only_among_his_own(login, rep_east, people, customer):
    client = login(rep_east)
    picker = client.get(reverse("contracts:contract_create"))
    assert picker.status_code == 200
    assert customer in picker.context["customers"]
    south = records.customer(people["rep_south1"], "南方客户")
    assert south not in picker.context["customers"]
    url = reverse("contracts:contract_create")
    assert client.get(url, {"customer": south.pk}).status_code == 404
    assert client.get(url, {"customer": customer.pk}).status_code == 200
    south_opp = sales_records.south_opportunity(people)
    assert client.get(url, {"opportunity": south_opp.pk}).status_code == 404


def test_it_shows_errors_at_the_fields_and_the_plan(login, rep_east, customer):
    client = login(rep_east)
    url = reverse("contracts:contract_create") + f"?customer={customer.pk}"
    today = timezone.localdate()
    response = client.post(
        url,
        {
            "customer": customer.pk,
            "title": "",
            "amount": "100000",
            "currency": "CNY",
            "starts_on": "2026-05-01",
            "ends_on": "2026-04-01",
            **_plan({"due_on": "", "amount": "100"}),
        },
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "title" in errors and "ends_on" in errors
    assert response.context["plan_rows"][0]["errors"]["due_on"]
    # The plan adds up to more than the contract: the service says so beside the plan.
    response = client.post(
        url,
        {
            "customer": customer.pk,
            "title": "超额计划",
            "amount": "100000",
            "currency": "CNY",
            **_plan({"due_on": today.isoformat(), "amount": "150000"}),
        },
    )
    assert response.status_code == 400
    assert response.context["plan_errors"]
    assert not Contract.objects.filter(title="超额计划").exists()


# --- The contract's page ------------------------------------------------------------------------


def test_it_shows_the_contract_with_its_plan_payments_invoices_and_files(
    login, rep_east, people, customer
):
    contract = _effective(rep_east, customer)
    records.payment(contract, amount="30000", by=people["finance1"])
    records.invoice(contract, amount="30000", number="INV001")
    client = login(rep_east)
    response = client.get(reverse("contracts:contract_detail", args=[contract.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "¥100,000.00" in body
    instalments = response.context["instalments"]
    assert [i.overdue for i in instalments] == [True, False]
    assert instalments[0].paid_amount == Decimal("30000")
    assert 'data-state="overdue"' in body
    assert len(response.context["payments"]) == 1
    assert len(response.context["invoices"]) == 1
    assert response.context["may_record_payment"] and response.context["may_request_invoice"]
    assert response.context["may_close"] and response.context["may_renew"]
    assert not response.context["may_submit"]
    assert 'data-testid="approval-history-card"' in body
    assert 'data-testid="audit-trail"' in body


def test_it_answers_404_for_a_contract_out_of_scope(login, rep_east, people):
    south = records.south_contract(people)
    client = login(rep_east)
    for name in ("contract_detail", "contract_edit", "contract_plan", "payment_create"):
        assert client.get(reverse(f"contracts:{name}", args=[south.pk])).status_code == 404
    attachment = records.south_attachment(people)
    url = reverse("contracts:attachment_download", args=[attachment.pk])
    assert client.get(url).status_code == 404
    # Neither does his manager; the sales director and finance read it.
    assert login(people["manager_east"]).get(url).status_code == 404
    assert login(people["director"]).get(url).status_code == 200
    assert login(people["finance1"]).get(url).status_code == 200


# --- Approval and the lock ----------------------------------------------------------------------


def test_a_large_contract_submitted_is_pending_and_its_edit_is_refused(
    login, rep_east, people, customer, flow
):
    contract = _draft(rep_east, customer, amount="800000")
    client = login(rep_east)
    response = client.post(
        reverse("contracts:contract_submit", args=[contract.pk]),
        {"version": contract.version, "comment": "请审批"},
    )
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.status == "pending"
    request = approvals.pending_request(contract)
    assert [a.username for a in request.steps.get(position=1).approvers.all()] == ["manager_east"]
    page = client.get(reverse("contracts:contract_detail", args=[contract.pk]))
    body = page.content.decode()
    assert 'data-testid="pending-banner"' in body
    assert reverse("approvals:request_detail", args=[request.pk]) in body
    assert not page.context["may_edit"] and page.context["may_withdraw"]
    # The edit page says why, and a posted change is refused by the service.
    edit_url = reverse("contracts:contract_edit", args=[contract.pk])
    refused = client.get(edit_url)
    assert refused.status_code == 409
    assert "pending approval and cannot be changed" in refused.content.decode()
    posted = client.post(
        edit_url,
        {"title": "改了", "amount": "1", "currency": "CNY", "version": contract.version},
    )
    assert posted.status_code == 409
    assert "pending approval and cannot be changed" in posted.content.decode()
    contract.refresh_from_db()
    assert (contract.title, contract.amount) == ("年度服务合同", Decimal("800000"))
    # Nor its plan.
    plan = client.post(
        reverse("contracts:contract_plan", args=[contract.pk]),
        {"version": contract.version, **_plan({"due_on": "2030-01-01", "amount": "1"})},
    )
    assert plan.status_code == 400
    assert "pending approval" in plan.content.decode()
    assert not contract.instalments.exists()


def test_a_small_contract_needs_no_approval_and_is_effective_at_once(
    login, rep_east, customer, flow
):
    contract = _draft(rep_east, customer, amount="100000")
    login(rep_east).post(
        reverse("contracts:contract_submit", args=[contract.pk]), {"version": contract.version}
    )
    contract.refresh_from_db()
    assert contract.status == "effective"


def test_the_submitter_withdraws_a_pending_contract(login, rep_east, customer, flow):
    contract = _draft(rep_east, customer, amount="800000")
    client = login(rep_east)
    client.post(
        reverse("contracts:contract_submit", args=[contract.pk]), {"version": contract.version}
    )
    response = client.post(
        reverse("contracts:contract_withdraw", args=[contract.pk]), {"comment": "改金额"}
    )
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.status == "draft"
    assert client.get(reverse("contracts:contract_edit", args=[contract.pk])).status_code == 200


def test_a_stale_submit_is_refused_with_a_conflict(login, rep_east, customer, flow):
    contract = _draft(rep_east, customer)
    response = login(rep_east).post(
        reverse("contracts:contract_submit", args=[contract.pk]),
        {"version": contract.version - 1 if contract.version > 1 else 99},
    )
    assert response.status_code == 409
    assert 'data-testid="action-error"' in response.content.decode()


def test_an_approver_reads_the_pending_contract_but_may_not_edit_it(
    login, rep_east, people, customer, flow
):
    contract = _draft(rep_east, customer, amount="800000")
    login(rep_east).post(
        reverse("contracts:contract_submit", args=[contract.pk]), {"version": contract.version}
    )
    finance = login(people["finance1"])
    assert finance.get(reverse("contracts:contract_detail", args=[contract.pk])).status_code == 200
    assert finance.get(reverse("contracts:contract_edit", args=[contract.pk])).status_code == 403
    # Someone of another team neither.
    outsider = login(people["rep_south1"])
    assert outsider.get(reverse("contracts:contract_detail", args=[contract.pk])).status_code == 404


# --- Edit, complete, terminate, renew, delete ---------------------------------------------------


def test_it_edits_a_draft(login, rep_east, customer):
    contract = _draft(rep_east, customer)
    client = login(rep_east)
    url = reverse("contracts:contract_edit", args=[contract.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "number": contract.number,
            "title": "年度服务合同（修订）",
            "amount": "120000",
            "currency": "CNY",
            "discount": "5",
            "version": contract.version,
        },
    )
    assert response.status_code == 302
    contract.refresh_from_db()
    assert (contract.title, contract.amount, contract.discount) == (
        "年度服务合同（修订）",
        Decimal("120000"),
        Decimal("5"),
    )


def test_an_effective_contract_keeps_its_terms_but_takes_a_description(login, rep_east, customer):
    contract = _effective(rep_east, customer)
    client = login(rep_east)
    url = reverse("contracts:contract_edit", args=[contract.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "amount" not in page.context["form"].fields
    response = client.post(url, {"description": "已盖章", "version": contract.version})
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.description == "已盖章"


def test_it_terminates_with_a_reason_and_completes(people, login, rep_east, customer):
    contract = _effective(rep_east, customer)
    url = reverse("contracts:contract_terminate", args=[contract.pk])
    page = login(rep_east).get(reverse("contracts:contract_detail", args=[contract.pk]))
    assert 'data-testid="terminate-open"' not in page.content.decode()
    assert (
        login(rep_east).post(url, {"version": contract.version, "reason": "x"}).status_code == 403
    )
    client = login(people["manager_east"])
    assert 'data-testid="terminate-open"' in client.get(page.request["PATH_INFO"]).content.decode()
    assert client.get(url).status_code == 405
    missing = client.post(url, {"version": contract.version, "reason": ""})
    assert missing.status_code == 400
    assert missing.context["open_dialog"] == "terminate"
    assert missing.context["terminate_form"].errors["reason"]
    done = client.post(url, {"version": contract.version, "reason": "客户破产"})
    assert done.status_code == 302
    contract.refresh_from_db()
    assert (contract.status, contract.termination_reason) == ("terminated", "客户破产")
    other = records.contract(rep_east, customer, number="HT-EAST-010")
    login(rep_east).post(
        reverse("contracts:contract_complete", args=[other.pk]), {"version": other.version}
    )
    other.refresh_from_db()
    assert other.status == "completed"


def test_it_renews_into_a_new_draft(login, rep_east, customer):
    contract = _effective(rep_east, customer)
    response = login(rep_east).post(reverse("contracts:contract_renew", args=[contract.pk]))
    renewal = Contract.objects.get(renews=contract)
    assert response.status_code == 302
    assert response["Location"] == reverse("contracts:contract_detail", args=[renewal.pk])
    assert renewal.status == "draft"
    page = login(rep_east).get(reverse("contracts:contract_detail", args=[contract.pk]))
    assert page.context["renewals"] == [renewal]


def test_it_deletes_a_draft_but_not_an_effective_contract(login, rep_east, customer):
    draft = _draft(rep_east, customer)
    effective = _effective(rep_east, customer)
    client = login(rep_east)
    response = client.post(reverse("contracts:contract_delete", args=[draft.pk]))
    assert response.status_code == 302
    assert not Contract.objects.filter(pk=draft.pk).exists()
    refused = client.post(reverse("contracts:contract_delete", args=[effective.pk]))
    assert refused.status_code == 400
    assert "Only drafts and terminated contracts" in refused.content.decode()
    assert Contract.objects.filter(pk=effective.pk).exists()


# --- The payment plan ---------------------------------------------------------------------------


def test_it_edits_the_payment_plan(login, rep_east, people, customer):
    contract = _effective(rep_east, customer)
    records.payment(contract, amount="20000", by=people["finance1"])
    first, second = contract.instalments.order_by("position")
    client = login(rep_east)
    url = reverse("contracts:contract_plan", args=[contract.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert [row["id"] for row in page.context["plan_rows"]] == [str(first.pk), str(second.pk)]
    today = timezone.localdate()
    # The paid instalment cannot go below what it received: the error is on its row.
    below = client.post(
        url,
        {
            "version": contract.version,
            **_plan(
                {"id": first.pk, "due_on": first.due_on.isoformat(), "amount": "10000"},
                {"id": second.pk, "due_on": second.due_on.isoformat(), "amount": "40000"},
            ),
        },
    )
    assert below.status_code == 400
    assert below.context["plan_rows"][0]["errors"]["amount"]
    saved = client.post(
        url,
        {
            "version": contract.version,
            **_plan(
                {"id": first.pk, "due_on": first.due_on.isoformat(), "amount": "60000"},
                {"due_on": (today + timedelta(days=90)).isoformat(), "amount": "40000"},
            ),
        },
    )
    assert saved.status_code == 302
    assert contract.instalments.count() == 2
    assert not contract.instalments.filter(pk=second.pk).exists()


# --- Payments and invoices ----------------------------------------------------------------------


def test_a_rep_records_a_payment_that_waits_for_finance(login, rep_east, customer):
    contract = _effective(rep_east, customer)
    client = login(rep_east)
    url = reverse("contracts:payment_create", args=[contract.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "over_payment" not in page.context["form"].fields
    response = client.post(
        url,
        {
            "amount": "30000",
            "received_on": timezone.localdate().isoformat(),
            "method": "bank_transfer",
            "reference": "B123",
            "over_payment": "on",  # not his to set: ignored
        },
    )
    assert response.status_code == 302
    payment = Payment.objects.get(contract=contract)
    assert (payment.status, payment.over_payment) == ("unconfirmed", False)
    contract.refresh_from_db()
    assert contract.received_amount == 0
    # More than the contract is refused at the amount.
    too_much = client.post(
        url,
        {
            "amount": "90000",
            "received_on": timezone.localdate().isoformat(),
            "method": "bank_transfer",
        },
    )
    assert too_much.status_code == 400
    assert too_much.context["form"].errors["amount"]


def test_finance_records_a_confirmed_payment_matched_by_hand(login, people, rep_east, customer):
    contract = _effective(rep_east, customer)
    _first, second = contract.instalments.order_by("position")
    client = login(people["finance1"])
    url = reverse("contracts:payment_create", args=[contract.pk])
    page = client.get(url)
    assert "over_payment" in page.context["form"].fields
    assert len(page.context["form"].allocation_rows()) == 2
    response = client.post(
        url,
        {
            "amount": "40000",
            "received_on": timezone.localdate().isoformat(),
            "method": "bank_transfer",
            f"allocate_{second.pk}": "40000",
        },
    )
    assert response.status_code == 302
    payment = Payment.objects.get(contract=contract)
    assert payment.status == "confirmed"
    second.refresh_from_db()
    assert second.paid_amount == Decimal("40000")
    contract.refresh_from_db()
    assert contract.received_amount == Decimal("40000")


def test_a_draft_takes_no_payment_and_outsiders_none_at_all(login, rep_east, people, customer):
    draft = _draft(rep_east, customer)
    client = login(rep_east)
    response = client.post(
        reverse("contracts:payment_create", args=[draft.pk]),
        {"amount": "1", "received_on": timezone.localdate().isoformat(), "method": "cash"},
    )
    assert response.status_code == 400
    assert "effective or completed contracts only" in response.content.decode()
    # marketing1 may not record payments at all.
    assert (
        login(people["marketing1"])
        .get(reverse("contracts:payment_create", args=[draft.pk]))
        .status_code
        == 404
    )


def test_a_rep_requests_an_invoice_and_finance_issues_one(login, rep_east, people, customer):
    contract = _effective(rep_east, customer)
    url = reverse("contracts:invoice_create", args=[contract.pk])
    rep = login(rep_east)
    page = rep.get(url)
    assert "number" not in page.context["form"].fields
    rep.post(url, {"kind": "vat_special", "amount": "50000", "tax_rate": "13"})
    requested = Invoice.objects.get(contract=contract)
    assert requested.status == "requested"
    finance = login(people["finance1"])
    finance.post(
        url,
        {"kind": "vat_normal", "amount": "20000", "tax_rate": "6", "number": "FP0001"},
    )
    issued = Invoice.objects.get(number="FP0001")
    assert (issued.status, issued.issued_on) == ("issued", timezone.localdate())
    over = rep.post(url, {"kind": "vat_special", "amount": "50000", "tax_rate": "13"})
    assert over.status_code == 400


# --- Attachments --------------------------------------------------------------------------------


def test_it_uploads_downloads_and_removes_an_attachment(login, rep_east, customer, settings):
    settings.MEDIA_ROOT = str(settings.MEDIA_ROOT)
    contract = _effective(rep_east, customer)
    client = login(rep_east)
    upload = client.post(
        reverse("contracts:attachment_upload", args=[contract.pk]),
        {"file": SimpleUploadedFile("签字版.pdf", PDF, content_type="application/pdf")},
    )
    assert upload.status_code == 302
    attachment = ContractAttachment.objects.get(contract=contract)
    download = client.get(reverse("contracts:attachment_download", args=[attachment.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content) == PDF
    # A file that is not what it says is refused at the upload, with the reason.
    bad = client.post(
        reverse("contracts:attachment_upload", args=[contract.pk]),
        {"file": SimpleUploadedFile("报价.pdf", b"MZ\x90\x00 not a pdf", content_type="x")},
    )
    assert bad.status_code == 400
    assert bad.context["attachment_form"].errors["file"]
    assert bad.context["open_dialog"] == "attachment"
    remove = reverse("contracts:attachment_delete", args=[attachment.pk])
    assert client.get(remove).status_code == 200
    assert client.post(remove).status_code == 302
    assert not ContractAttachment.objects.filter(pk=attachment.pk).exists()


# --- On the opportunity's page ------------------------------------------------------------------


def test_the_won_opportunity_offers_to_draft_its_contract(login, rep_east, customer, won):
    client = login(rep_east)
    url = reverse("sales:opportunity_detail", args=[won.pk])
    body = client.get(url).content.decode()
    assert 'data-testid="draft-contract"' in body
    assert reverse("contracts:contract_create") + f"?opportunity={won.pk}" in body
    contract = records.contract(rep_east, customer, number="HT-OPP-001", status="draft")
    Contract.objects.filter(pk=contract.pk).update(opportunity=won)
    page = client.get(url)
    assert [c.pk for c in page.context["contract_card"]["rows"]] == [contract.pk]
    assert 'data-testid="opportunity-contract"' in page.content.decode()


def test_an_open_opportunity_offers_no_contract(login, rep_east, customer):
    sales_records.pipeline()
    opp = sales_records.opportunity(rep_east, customer, title="还在谈")
    body = login(rep_east).get(reverse("sales:opportunity_detail", args=[opp.pk])).content
    assert b'data-testid="draft-contract"' not in body
