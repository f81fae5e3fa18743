"""Pages for one contract: create (from a won opportunity or a customer), the contract's page
(terms, status and the actions allowed now, approval history, payment plan, payments,
invoices, attachments, renewal chain, audit trail), edit, delete, submit, withdraw, complete,
terminate, renew, the payment plan, recording a payment, requesting an invoice and the
attachments. The list is in ``list_views``.

Records come in through ``tuoke.core.scope``; every write goes through
``tuoke.contracts.services``, ``payments`` or ``invoices``, which decide what is allowed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tuoke.core import custom_fields
from tuoke.core.errors import Conflict
from tuoke.core.models import Action, Scope
from tuoke.core.scope import can, get_for, get_for_action, may_act_on, require, scope_of
from tuoke.core.views import add_service_error, audit_trail
from tuoke.customers.models import Customer
from tuoke.customers.queries import search as search_customers
from tuoke.org import approvals
from tuoke.org.models import User
from tuoke.sales.models import Opportunity, OpportunityStatus

from . import invoices, payments, services
from .forms import (
    AttachmentForm,
    CompleteForm,
    ContractForm,
    InvoiceForm,
    PaymentForm,
    PlanForm,
    SubmitForm,
    TerminateForm,
    WithdrawForm,
    instalment_formset,
    instalment_initial,
)
from .models import (
    Contract,
    ContractAttachment,
    ContractStatus,
    Invoice,
    Payment,
)

PICKER_SIZE = 20
# Payments and invoices shown on a contract's page (the finance lists hold every one).
SHOWN_ROWS = 100
OPPORTUNITY_CARD_SIZE = 5
RUNNING = (ContractStatus.EFFECTIVE, ContractStatus.COMPLETED)


def _contracts():
    return Contract.objects.select_related(
        "customer", "owner__unit", "opportunity", "renews", "created_by"
    )


def _owner_choices(user: User):
    """Whom a creator may make the owner: only people with a scope wider than their own."""
    if scope_of(user, "contract", Action.CREATE) <= Scope.OWN:
        return None
    return User.objects.visible_to(user).filter(is_active=True).order_by("username")


def _refusal(exc) -> ValidationError:
    if isinstance(exc, PermissionDenied):
        return ValidationError(str(exc) or _("You do not have permission to do this."))
    return exc


def show_error(form, exc, plan_errors: list[str] | None = None, formset=None) -> None:
    """A service's refusal on the field it is about; errors about the payment plan go on
    their row ("instalments.N.amount") or beside the plan's rows ("instalments")."""
    exc = _refusal(exc)
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        remapped: dict[str, list] = {}
        for key, errors in exc.error_dict.items():
            if key.startswith("instalments") and plan_errors is not None:
                parts = key.split(".")
                placed = (
                    formset is not None
                    and len(parts) == 3
                    and parts[1].isdigit()
                    and all(formset.add_entry_error(int(parts[1]), parts[2], e) for e in errors)
                )
                if not placed:
                    plan_errors.extend(m for e in errors for m in e.messages)
                continue
            if key.startswith("custom."):
                key = custom_fields.form_field_name(key.removeprefix("custom."))
            remapped.setdefault(key if key in form.fields else "__all__", []).extend(errors)
        if not remapped:
            return
        exc = ValidationError(remapped)
    add_service_error(form, exc)


def _problems(form) -> list[str]:
    problems = [str(e) for e in form.non_field_errors()]
    for name, errors in form.errors.items():
        if name != "__all__":
            label = form.fields[name].label if name in form.fields else name
            problems += [f"{label}: {e}" for e in errors]
    return problems


# --- Create -------------------------------------------------------------------------------------


def _pick_customer(request):
    """Which customer the new contract is with: a search among the user's customers."""
    user = request.user
    q = request.GET.get("q", "").strip()[:100]
    customers = Customer.objects.visible_to(user)
    if q:
        customers = search_customers(customers, q)
    found = list(customers.order_by("-updated_at", "-pk")[:PICKER_SIZE])
    return render(request, "contracts/contract_pick.html", {"customers": found, "q": q})


def _form_page(
    request, form, formset, plan_errors, *, customer, contract, opportunity=None, status=None
):
    return render(
        request,
        "contracts/contract_form.html",
        {
            "form": form,
            "formset": formset,
            "plan_rows": formset.rows() if formset is not None else [],
            "plan_errors": plan_errors,
            "customer": customer,
            "contract": contract,
            "opportunity": opportunity,
        },
        status=status or (400 if request.method == "POST" else 200),
    )


@login_required
def contract_create(request):
    """A new draft contract with its payment plan: from a won opportunity (``?opportunity=``,
    its customer, title, amount and owner filled in), for a customer (``?customer=``), or
    after a search for the customer."""
    user = request.user
    require(user, "contract", Action.CREATE)
    opportunity_id = request.POST.get("from_opportunity") or request.GET.get("opportunity")
    customer_id = request.POST.get("customer") or request.GET.get("customer")
    initial: dict[str, Any] = {}
    opportunity = None
    if opportunity_id:
        opportunity = get_for(user, Opportunity.objects.select_related("customer"), opportunity_id)
        drafted = services.draft_from_opportunity(opportunity)
        customer = drafted.get("customer") or opportunity.customer
        initial = {
            "title": drafted.get("title", ""),
            "amount": drafted.get("amount"),
            "currency": drafted.get("currency") or "CNY",
            "opportunity": opportunity.pk,
        }
        owner = drafted.get("owner")
        if owner is not None:
            initial["owner"] = owner.pk if hasattr(owner, "pk") else owner
    elif customer_id:
        customer = get_for(user, Customer, customer_id)
        initial = {"currency": customer.currency or "CNY"}
    else:
        return _pick_customer(request)
    form = ContractForm(
        request.POST or None,
        customer=customer,
        user=user,
        owners=_owner_choices(user),
        initial=initial,
    )
    formset = instalment_formset(request.POST or None)
    plan_errors: list[str] = []
    if request.method == "POST":
        form_valid = form.is_valid()
        plan_valid = formset.is_valid()
        if not plan_valid:
            plan_errors += [str(e) for e in formset.non_form_errors()]
        if form_valid and plan_valid:
            try:
                contract = services.create_contract(
                    customer=customer,
                    by=user,
                    owner=form.cleaned_data.get("owner"),
                    custom=form.custom_values(),
                    instalments=formset.instalments(),
                    **form.facts(),
                )
            except (ValidationError, Conflict, PermissionDenied) as exc:
                show_error(form, exc, plan_errors, formset)
            else:
                messages.success(
                    request, _("Contract %(number)s was saved as a draft.") % {"number": contract}
                )
                if not may_act_on(user, contract, Action.VIEW):
                    return redirect("contracts:contract_list")
                return redirect("contracts:contract_detail", pk=contract.pk)
    return _form_page(
        request,
        form,
        formset,
        plan_errors,
        customer=customer,
        contract=None,
        opportunity=opportunity,
    )


# --- Edit and delete ----------------------------------------------------------------------------


@login_required
def contract_edit(request, pk: int):
    """A draft's terms, or the description and custom fields of an approved contract (what
    ``services.editable_fields`` allows; the payment plan has a page of its own). A contract
    pending approval is read-only: the page says why, with a 409."""
    user = request.user
    contract = get_for_action(user, _contracts(), pk, Action.EDIT)
    editable = services.editable_fields(contract)
    if not editable and request.method != "POST":
        return _locked_page(request, contract)
    initial = {
        "number": contract.number,
        "title": contract.title,
        "opportunity": contract.opportunity_id,
        "amount": contract.amount,
        "currency": contract.currency,
        "discount": contract.discount,
        "signed_on": contract.signed_on,
        "starts_on": contract.starts_on,
        "ends_on": contract.ends_on,
        "description": contract.description,
        "version": contract.version,
        **custom_fields.initial_values(Contract.custom_fields_target, contract.custom),
    }
    form = ContractForm(
        request.POST or None,
        customer=contract.customer,
        user=user,
        contract=contract,
        initial=initial,
        editable=editable or services.DRAFT_FIELDS,
    )
    if request.method == "POST" and form.is_valid():
        facts = form.facts()
        if "number" in facts and not facts["number"]:
            facts.pop("number")
        if form.has_custom:
            facts["custom"] = form.custom_values(current=contract.custom)
        try:
            services.update_contract(
                contract, by=user, version=form.cleaned_data.get("version"), **facts
            )
        except (ValidationError, Conflict, PermissionDenied) as exc:
            if not editable:
                return _locked_page(request, contract, exc)
            show_error(form, exc)
            return _form_page(
                request,
                form,
                None,
                [],
                customer=contract.customer,
                contract=contract,
                status=409 if isinstance(exc, Conflict) else 400,
            )
        messages.success(request, _("Contract %(number)s was saved.") % {"number": contract})
        return redirect("contracts:contract_detail", pk=contract.pk)
    return _form_page(request, form, None, [], customer=contract.customer, contract=contract)


def _locked_page(request, contract: Contract, exc=None):
    """The refusal to edit a contract pending approval (the service's own words after a
    post), with a link to its request."""
    if exc is not None:
        reason = " ".join(_messages_of(exc))
    else:
        reason = _("This contract is pending approval and cannot be changed.")
    return render(
        request,
        "contracts/contract_locked.html",
        {"contract": contract, "reason": reason, "pending": approvals.pending_request(contract)},
        status=409,
    )


@login_required
def contract_delete(request, pk: int):
    user = request.user
    contract = get_for_action(user, _contracts(), pk, Action.DELETE)
    error = ""
    if request.method == "POST":
        try:
            services.delete_contract(contract, by=user)
        except (ValidationError, Conflict, PermissionDenied) as exc:
            error = " ".join(_messages_of(exc))
        else:
            messages.success(
                request,
                _("Contract %(number)s was moved to the recycle bin, where it can be restored.")
                % {"number": contract},
            )
            return redirect("contracts:contract_list")
    return render(
        request,
        "contracts/contract_delete.html",
        {"contract": contract, "error": error},
        status=400 if error else 200,
    )


def _messages_of(exc) -> list[str]:
    if isinstance(exc, Conflict):
        return [str(exc.message)]
    if isinstance(exc, ValidationError):
        return [str(m) for m in exc.messages]
    return [str(exc) or _("You do not have permission to do this.")]


# --- The contract's page ------------------------------------------------------------------------


def _instalments(contract: Contract) -> list:
    today = timezone.localdate()
    rows = list(contract.instalments.all())
    for row in rows:
        row.overdue = contract.status in RUNNING and row.due_on < today and row.outstanding > 0
    return rows


def _detail_context(request, contract: Contract, **extra) -> dict[str, Any]:
    user = request.user
    status = contract.status
    may_edit_record = may_act_on(user, contract, Action.EDIT)
    pending = approvals.pending_request(contract)
    instalments = _instalments(contract)
    planned = sum((i.amount for i in instalments), Decimal("0"))
    payments_found = list(
        Payment.objects.visible_to(user)
        .filter(contract=contract)
        .select_related("created_by", "confirmed_by")
        .order_by("-received_on", "-pk")[: SHOWN_ROWS + 1]
    )
    invoices_found = list(
        Invoice.objects.visible_to(user)
        .filter(contract=contract)
        .order_by("-issued_on", "-pk")[: SHOWN_ROWS + 1]
    )
    renewals = list(
        Contract.objects.visible_to(user)
        .filter(renews=contract)
        .select_related("owner")
        .order_by("-created_at", "-pk")
    )
    renews = contract.renews
    version = contract.version
    return {
        "contract": contract,
        "custom_values": custom_fields.shown_values(Contract.custom_fields_target, contract.custom),
        "pending": pending,
        "approval_history": approvals.history(contract),
        "approval_pending": pending,
        "instalments": instalments,
        "planned": planned,
        "unplanned": contract.amount - planned,
        "payments": payments_found[:SHOWN_ROWS],
        "payments_more": len(payments_found) > SHOWN_ROWS,
        "invoices": invoices_found[:SHOWN_ROWS],
        "invoices_more": len(invoices_found) > SHOWN_ROWS,
        "attachments": list(contract.attachments.select_related("created_by")),
        "renewals": renewals,
        "renews": renews if renews is not None and may_act_on(user, renews, Action.VIEW) else None,
        "renews_hidden": renews is not None and not may_act_on(user, renews, Action.VIEW),
        "may_see_customer": may_act_on(user, contract.customer, Action.VIEW),
        "may_see_opportunity": contract.opportunity is not None
        and may_act_on(user, contract.opportunity, Action.VIEW),
        "may_edit": services.may_edit(user, contract),
        "may_submit": status == ContractStatus.DRAFT and may_edit_record,
        "may_withdraw": pending is not None and pending.owner_id == user.pk,
        "may_close": status == ContractStatus.EFFECTIVE and may_edit_record,
        "may_terminate": status == ContractStatus.EFFECTIVE
        and may_act_on(user, contract, Action.APPROVE),
        "may_renew": status in RUNNING
        and may_act_on(user, contract, Action.VIEW)
        and can(user, "contract", Action.CREATE),
        "may_delete": status in (ContractStatus.DRAFT, ContractStatus.TERMINATED)
        and may_act_on(user, contract, Action.DELETE),
        "may_plan": status in (ContractStatus.DRAFT, ContractStatus.EFFECTIVE) and may_edit_record,
        "may_attach": status != ContractStatus.PENDING and may_edit_record,
        "may_record_payment": status in RUNNING and payments.may_record(user, contract),
        "may_request_invoice": status in RUNNING and invoices.may_request(user, contract),
        "submit_form": extra.pop("submit_form", None) or SubmitForm(initial={"version": version}),
        "withdraw_form": extra.pop("withdraw_form", None) or WithdrawForm(),
        "complete_form": extra.pop("complete_form", None)
        or CompleteForm(initial={"version": version}),
        "terminate_form": extra.pop("terminate_form", None)
        or TerminateForm(initial={"version": version}),
        "attachment_form": extra.pop("attachment_form", None) or AttachmentForm(),
        "audit_page": audit_trail(request, contract),
        **extra,
    }


@login_required
def contract_detail(request, pk: int):
    contract = get_for(request.user, _contracts(), pk)
    return render(request, "contracts/contract_detail.html", _detail_context(request, contract))


def _refused(request, contract: Contract, form, exc=None, *, dialog: str = ""):
    """The contract's page again with the refusal on top (and on the dialog's form)."""
    if exc is not None:
        show_error(form, exc)
    contract.refresh_from_db()
    if isinstance(exc, Conflict):
        status = 409
    elif isinstance(exc, PermissionDenied):
        status = 403
    else:
        status = 400
    context = _detail_context(
        request,
        contract,
        problems=_problems(form),
        open_dialog=dialog,
        **{f"{dialog}_form": form} if dialog else {},
    )
    return render(request, "contracts/contract_detail.html", context, status=status)


def _post_only(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    return None


def _done(request, contract: Contract, message: str):
    messages.success(request, message)
    return redirect("contracts:contract_detail", pk=contract.pk)


@login_required
def contract_submit(request, pk: int):
    """A draft goes to approval (or straight to effective when no approval flow applies)."""
    contract = get_for_action(request.user, _contracts(), pk, Action.EDIT)
    if (refused := _post_only(request)) is not None:
        return refused
    form = SubmitForm(request.POST)
    if not form.is_valid():
        return _refused(request, contract, form, dialog="submit")
    try:
        contract = services.submit_contract(
            contract,
            by=request.user,
            comment=form.cleaned_data["comment"],
            version=form.cleaned_data.get("version"),
        )
    except (ValidationError, Conflict, PermissionDenied) as exc:
        return _refused(request, contract, form, exc, dialog="submit")
    if contract.status == ContractStatus.PENDING:
        note = _("Contract %(number)s was submitted for approval.")
    else:
        note = _("Contract %(number)s needs no approval and is effective now.")
    return _done(request, contract, note % {"number": contract})


@login_required
def contract_withdraw(request, pk: int):
    """The submitter takes a pending contract back to draft."""
    contract = get_for(request.user, _contracts(), pk)
    if (refused := _post_only(request)) is not None:
        return refused
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return _refused(request, contract, form, dialog="withdraw")
    try:
        contract = services.withdraw_contract(
            contract, by=request.user, comment=form.cleaned_data["comment"]
        )
    except (ValidationError, Conflict, PermissionDenied) as exc:
        return _refused(request, contract, form, exc, dialog="withdraw")
    return _done(
        request, contract, _("Contract %(number)s is a draft again.") % {"number": contract}
    )


@login_required
def contract_complete(request, pk: int):
    contract = get_for_action(request.user, _contracts(), pk, Action.EDIT)
    if (refused := _post_only(request)) is not None:
        return refused
    form = CompleteForm(request.POST)
    if not form.is_valid():
        return _refused(request, contract, form, dialog="complete")
    try:
        contract = services.complete_contract(
            contract, by=request.user, version=form.cleaned_data.get("version")
        )
    except (ValidationError, Conflict, PermissionDenied) as exc:
        return _refused(request, contract, form, exc, dialog="complete")
    return _done(request, contract, _("Contract %(number)s is completed.") % {"number": contract})


@login_required
def contract_terminate(request, pk: int):
    contract = get_for_action(request.user, _contracts(), pk, Action.EDIT)
    if (refused := _post_only(request)) is not None:
        return refused
    form = TerminateForm(request.POST)
    if not form.is_valid():
        return _refused(request, contract, form, dialog="terminate")
    try:
        contract = services.terminate_contract(
            contract,
            by=request.user,
            reason=form.cleaned_data["reason"],
            version=form.cleaned_data.get("version"),
        )
    except (ValidationError, Conflict, PermissionDenied) as exc:
        return _refused(request, contract, form, exc, dialog="terminate")
    return _done(request, contract, _("Contract %(number)s was terminated.") % {"number": contract})


@login_required
def contract_renew(request, pk: int):
    """A renewal: a new draft continuing this contract, to check and submit."""
    user = request.user
    contract = get_for(user, _contracts(), pk)
    if (refused := _post_only(request)) is not None:
        return refused
    require(user, "contract", Action.CREATE)
    try:
        renewal = services.renew_contract(contract, by=user)
    except (ValidationError, Conflict, PermissionDenied) as exc:
        return _refused(request, contract, CompleteForm(), exc)
    messages.success(
        request,
        _("Renewal %(number)s was drafted: check its terms and plan, then submit it.")
        % {"number": renewal.number},
    )
    if not may_act_on(user, renewal, Action.VIEW):
        return redirect("contracts:contract_detail", pk=contract.pk)
    return redirect("contracts:contract_detail", pk=renewal.pk)


# --- The payment plan ---------------------------------------------------------------------------


@login_required
def contract_plan(request, pk: int):
    """Edit the instalments: add, change, remove (the service keeps what is paid)."""
    user = request.user
    contract = get_for_action(user, _contracts(), pk, Action.EDIT)
    instalments = list(contract.instalments.all())
    form = PlanForm(request.POST or None, initial={"version": contract.version})
    formset = (
        instalment_formset(request.POST)
        if request.method == "POST"
        else instalment_formset(initial=instalment_initial(instalments))
    )
    plan_errors: list[str] = []
    if request.method == "POST":
        form_valid = form.is_valid()
        plan_valid = formset.is_valid()
        if not plan_valid:
            plan_errors += [str(e) for e in formset.non_form_errors()]
        if form_valid and plan_valid:
            try:
                payments.set_payment_plan(
                    contract,
                    instalments=formset.instalments(),
                    by=user,
                    version=form.cleaned_data.get("version"),
                )
            except (ValidationError, Conflict, PermissionDenied) as exc:
                show_error(form, exc, plan_errors, formset)
            else:
                messages.success(
                    request,
                    _("The payment plan of %(number)s was saved.") % {"number": contract},
                )
                return redirect(reverse("contracts:contract_detail", args=[contract.pk]) + "#plan")
    paid = {i.pk: i.paid_amount for i in instalments}
    return render(
        request,
        "contracts/contract_plan.html",
        {
            "contract": contract,
            "form": form,
            "formset": formset,
            "plan_rows": formset.rows(),
            "plan_errors": plan_errors,
            "paid": {str(k): str(v) for k, v in paid.items()},
        },
        status=400 if request.method == "POST" else 200,
    )


# --- Payments and invoices ----------------------------------------------------------------------


@login_required
def payment_create(request, pk: int):
    """Money the customer paid for this contract. Finance's is confirmed at once (and may be
    matched to instalments by hand, or allowed above the contract amount); a rep's waits for
    finance."""
    user = request.user
    contract = get_for(user, _contracts(), pk)
    if not payments.may_record(user, contract):
        raise PermissionDenied(_("You do not have permission to do this."))
    finance = payments.may_confirm(user, contract)
    open_instalments = [i for i in _instalments(contract) if i.outstanding > 0]
    form = PaymentForm(request.POST or None, finance=finance, instalments=open_instalments)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payment = payments.record_payment(
                contract=contract,
                amount=data["amount"],
                received_on=data["received_on"],
                by=user,
                method=data["method"],
                reference=data["reference"],
                note=data["note"],
                over_payment=bool(data.get("over_payment")),
                allocations=form.allocations(),
            )
        except (ValidationError, Conflict, PermissionDenied) as exc:
            show_error(form, exc)
        else:
            if payment.status == "confirmed":
                note = _("The payment was recorded and confirmed.")
            else:
                note = _("The payment was recorded; finance will confirm it.")
            messages.success(request, note)
            return redirect(reverse("contracts:contract_detail", args=[contract.pk]) + "#payments")
    return render(
        request,
        "contracts/contract_payment_form.html",
        {"contract": contract, "form": form, "finance": finance},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def invoice_create(request, pk: int):
    """Ask finance for an invoice of this contract; finance may issue it at once."""
    user = request.user
    contract = get_for(user, _contracts(), pk)
    if not invoices.may_request(user, contract):
        raise PermissionDenied(_("You do not have permission to do this."))
    finance = invoices.may_issue(user, contract)
    left = contract.amount - invoices.invoiced_total(contract)
    form = InvoiceForm(
        request.POST or None,
        finance=finance,
        initial={"amount": left if left > 0 else None},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            invoice = invoices.create_invoice(
                contract=contract,
                amount=data["amount"],
                by=user,
                kind=data["kind"],
                tax_rate=data["tax_rate"],
                number=(data.get("number") or "").strip(),
                issued_on=data.get("issued_on"),
                note=data["note"],
            )
        except (ValidationError, Conflict, PermissionDenied) as exc:
            show_error(form, exc)
        else:
            if invoice.status == "issued":
                note = _("Invoice %(number)s was issued.") % {"number": invoice.number}
            else:
                note = _("The invoice was requested; finance will issue it.")
            messages.success(request, note)
            return redirect(reverse("contracts:contract_detail", args=[contract.pk]) + "#invoices")
    return render(
        request,
        "contracts/contract_invoice_form.html",
        {"contract": contract, "form": form, "finance": finance},
        status=400 if request.method == "POST" else 200,
    )


# --- Attachments --------------------------------------------------------------------------------


@login_required
def attachment_upload(request, pk: int):
    """Upload a file to the contract; the service checks its size and type."""
    user = request.user
    contract = get_for_action(user, _contracts(), pk, Action.EDIT)
    if (refused := _post_only(request)) is not None:
        return refused
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        return _refused(request, contract, form, dialog="attachment")
    try:
        attachment = services.add_attachment(contract, upload=form.cleaned_data["file"], by=user)
    except (ValidationError, Conflict, PermissionDenied) as exc:
        return _refused(request, contract, form, exc, dialog="attachment")
    messages.success(request, _("“%(name)s” was attached.") % {"name": attachment.name})
    return redirect(reverse("contracts:contract_detail", args=[contract.pk]) + "#attachments")


def _attachment_for(user: User, pk: int, action: str = Action.VIEW) -> ContractAttachment:
    """An attachment of a contract the user may ``action`` (404 if he may not see it)."""
    attachment = ContractAttachment.objects.select_related("contract").filter(pk=pk).first()
    if attachment is None:
        raise Http404
    if action == Action.VIEW:
        get_for(user, Contract, attachment.contract_id)
    else:
        get_for_action(user, Contract, attachment.contract_id, action)
    return attachment


@login_required
def attachment_download(request, pk: int):
    """The file, only to people who may see the contract, always as a download."""
    attachment = _attachment_for(request.user, pk)
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError, OSError) as exc:
        raise Http404 from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def attachment_delete(request, pk: int):
    user = request.user
    attachment = _attachment_for(user, pk, Action.EDIT)
    contract = attachment.contract
    error = ""
    if request.method == "POST":
        try:
            services.remove_attachment(attachment, by=user)
        except (ValidationError, Conflict, PermissionDenied) as exc:
            error = " ".join(_messages_of(exc))
        else:
            messages.success(request, _("“%(name)s” was removed.") % {"name": attachment.name})
            return redirect(
                reverse("contracts:contract_detail", args=[contract.pk]) + "#attachments"
            )
    return render(
        request,
        "contracts/contract_attachment_delete.html",
        {"contract": contract, "attachment": attachment, "error": error},
        status=400 if error else 200,
    )


# --- On the opportunity's page ------------------------------------------------------------------


def opportunity_card(opportunity: Opportunity, user: User) -> dict[str, Any]:
    """The opportunity's contracts the user may see and, once it is won, the offer to draft
    its contract (for the opportunity's page)."""
    if not can(user, "contract", Action.VIEW) and not can(user, "contract", Action.CREATE):
        return {"shown": False}
    found = (
        Contract.objects.visible_to(user)
        .filter(opportunity=opportunity)
        .order_by("-created_at", "-pk")
    )
    rows = list(found[: OPPORTUNITY_CARD_SIZE + 1])
    won = opportunity.status == OpportunityStatus.WON
    return {
        "shown": True,
        "rows": rows[:OPPORTUNITY_CARD_SIZE],
        "more": len(rows) > OPPORTUNITY_CARD_SIZE,
        "list_url": reverse("contracts:contract_list")
        + f"?customer={opportunity.customer_id}&view=all",
        "offer": won and can(user, "contract", Action.CREATE),
        "new_url": reverse("contracts:contract_create") + f"?opportunity={opportunity.pk}",
    }
