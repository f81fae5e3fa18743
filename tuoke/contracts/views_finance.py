"""Finance's pages: the payments list (what awaits confirmation, and all payments) with
confirm, reject and delete, and the invoices list with issue and void.

Every payment and invoice comes from ``visible_to(user)``: out of the user's scope is 404,
seen but not his to act on 403. Writes go through ``tuoke.contracts.payments`` and
``tuoke.contracts.invoices``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet, Sum
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from tuoke.core.errors import Conflict
from tuoke.core.models import Action, Scope
from tuoke.core.scope import can, get_for, get_for_action, require, scope_of
from tuoke.core.views import add_service_error, next_url, paginate
from tuoke.org.models import User

from . import invoices, payments
from .models import (
    Instalment,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
)

# --- Forms ------------------------------------------------------------------------------------


class PaymentFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100)
    received_from = forms.DateField(required=False)
    received_until = forms.DateField(required=False)
    method = forms.ChoiceField(required=False, choices=[("", ""), *PaymentMethod.choices])
    owner = forms.ModelChoiceField(required=False, queryset=User.objects.none())
    customer = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners if owners is not None else User.objects.none()


class InvoiceFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100)
    status = forms.ChoiceField(required=False, choices=[("", ""), *InvoiceStatus.choices])
    kind = forms.ChoiceField(required=False, choices=[("", ""), *InvoiceKind.choices])
    issued_from = forms.DateField(required=False)
    issued_until = forms.DateField(required=False)
    owner = forms.ModelChoiceField(required=False, queryset=User.objects.none())
    customer = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners if owners is not None else User.objects.none()


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class IssueForm(forms.Form):
    number = forms.CharField(label=gettext_lazy("Invoice number"), max_length=40)
    issued_on = forms.DateField(
        label=gettext_lazy("Issued on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


# --- Helpers ----------------------------------------------------------------------------------

TABS = (
    ("awaiting", gettext_lazy("Awaiting finance")),
    ("all", pgettext_lazy("payments tab", "All")),
)
STATUS_BADGES = {
    PaymentStatus.UNCONFIRMED: "bg-yellow-lt",
    PaymentStatus.CONFIRMED: "bg-green-lt",
    PaymentStatus.REJECTED: "bg-red-lt",
    InvoiceStatus.REQUESTED: "bg-yellow-lt",
    InvoiceStatus.ISSUED: "bg-green-lt",
    InvoiceStatus.VOID: "bg-secondary-lt",
}


def _owners(user: User, record_type: str) -> QuerySet[User]:
    """The people the owner filter offers: everyone to those who see every payment (or
    invoice), finance's case, whose view of colleagues may be narrower; else the colleagues
    the user may see."""
    people = User.objects.filter(is_active=True)
    if scope_of(user, record_type, Action.VIEW) != Scope.ALL:
        people = people.visible_to(user)
    return people.order_by("username")


def _totals(queryset: QuerySet) -> list[dict[str, Any]]:
    """The sum of the filtered rows per currency (one grouped query, whatever the page)."""
    return list(
        queryset.order_by().values("currency").annotate(total=Sum("amount")).order_by("currency")
    )


def _allowed(queryset: QuerySet, user: User, action: str, ids: list[int]) -> set[int]:
    """Which rows of the page the user may ``action`` (one query for the page)."""
    if not ids:
        return set()
    model = queryset.model
    return set(
        model.objects.visible_to(user, action).filter(pk__in=ids).values_list("pk", flat=True)
    )


def _refusal(exc: Exception) -> ValidationError | Conflict:
    if isinstance(exc, PermissionDenied):
        return ValidationError(str(exc) or _("You do not have permission to do this."))
    return exc  # type: ignore[return-value]


def _payment_for(user: User, pk: int, action: str) -> Payment:
    return get_for_action(user, Payment.objects.select_related("contract", "customer"), pk, action)


def _may_delete_payment(user: User, payment: Payment) -> bool:
    """Whoever recorded an unconfirmed payment, or those with ``delete`` on it (finance)."""
    if payment.status != PaymentStatus.CONFIRMED and payment.created_by_id == user.pk:
        return True
    return Payment.objects.visible_to(user, Action.DELETE).filter(pk=payment.pk).exists()


# --- Payments ---------------------------------------------------------------------------------


@login_required
def payment_list(request):
    """Payments within the user's scope: the tab of those awaiting finance (the default for
    those who confirm payments) or all of them; filters, the total of the filter, pages."""
    user = request.user
    require(user, Payment.record_type, Action.VIEW)
    may_confirm = can(user, Payment.record_type, Action.APPROVE)
    tab = request.GET.get("tab") or ("awaiting" if may_confirm else "all")
    if tab not in dict(TABS):
        tab = "all"
    owners = _owners(user, Payment.record_type)
    form = PaymentFilterForm(request.GET, owners=owners)
    form.is_valid()
    data = {k: v for k, v in form.cleaned_data.items() if k not in form.errors}

    found = Payment.objects.visible_to(user)
    if tab == "awaiting":
        found = found.filter(status=PaymentStatus.UNCONFIRMED)
    if data.get("q"):
        q = data["q"].strip()
        found = found.filter(
            Q(contract__number__icontains=q)
            | Q(contract__title__icontains=q)
            | Q(customer__short_name__icontains=q)
            | Q(reference__icontains=q)
        )
    if data.get("received_from"):
        found = found.filter(received_on__gte=data["received_from"])
    if data.get("received_until"):
        found = found.filter(received_on__lte=data["received_until"])
    if data.get("method"):
        found = found.filter(method=data["method"])
    if data.get("owner"):
        found = found.filter(contract__owner=data["owner"])
    customer = None
    if data.get("customer"):
        found = found.filter(customer_id=data["customer"])
        customer = found.values_list("customer__short_name", flat=True).first()

    page = paginate(
        request,
        found.select_related("contract__owner", "customer", "created_by").order_by(
            "-received_on", "-pk"
        ),
    )
    rows = list(page.object_list)
    ids = [p.pk for p in rows]
    confirmable = _allowed(found, user, Action.APPROVE, ids)
    deletable = _allowed(found, user, Action.DELETE, ids)
    for payment in rows:
        pending = payment.status == PaymentStatus.UNCONFIRMED
        payment.may_confirm = pending and payment.pk in confirmable
        payment.may_delete = payment.pk in deletable or (
            pending and payment.created_by_id == user.pk
        )
        payment.badge = STATUS_BADGES.get(payment.status, "bg-secondary-lt")
    awaiting_count = (
        Payment.objects.visible_to(user, Action.APPROVE)
        .filter(status=PaymentStatus.UNCONFIRMED)
        .count()
        if may_confirm
        else None
    )
    filtered = any(request.GET.get(k) for k in PaymentFilterForm.base_fields)
    return render(
        request,
        "contracts/payment_list.html",
        {
            "tab": tab,
            "tabs": TABS,
            "awaiting_count": awaiting_count,
            "form": form,
            "data": data,
            "owners": list(owners),
            "methods": PaymentMethod.choices,
            "customer_name": customer,
            "page_obj": page,
            "payments": rows,
            "totals": _totals(found),
            "filtered": filtered,
            "back": request.get_full_path(),
        },
        status=400 if form.errors else 200,
    )


def _suggested(instalments: list[Instalment], amount: Decimal) -> dict[int, Decimal]:
    """What matching oldest due first would give each instalment (the form's defaults)."""
    left = amount
    shares: dict[int, Decimal] = {}
    for instalment in instalments:
        share = min(left, max(instalment.outstanding, Decimal("0")))
        shares[instalment.pk] = share if share > 0 else Decimal("0")
        left -= shares[instalment.pk]
    return shares


def _posted_allocations(
    request, instalments: list[Instalment]
) -> tuple[list[dict[str, Any]] | None, dict[int, str]]:
    """The allocation per instalment posted as ``alloc_<id>`` (None when the form had none:
    match oldest due first), and errors by instalment id."""
    if not any(key.startswith("alloc_") for key in request.POST):
        return None, {}
    allocations: list[dict[str, Any]] = []
    errors: dict[int, str] = {}
    for instalment in instalments:
        raw = (request.POST.get(f"alloc_{instalment.pk}") or "").strip().replace(",", "")
        if not raw:
            continue
        try:
            amount = Decimal(raw)
        except ArithmeticError:
            errors[instalment.pk] = _("Enter a number.")
            continue
        if not amount.is_finite() or amount < 0:
            errors[instalment.pk] = _("Enter a number.")
            continue
        if amount > 0:
            allocations.append({"instalment": instalment, "amount": amount})
    return allocations, errors


@login_required
def payment_confirm(request, pk: int):
    """Finance confirms a payment: a small page showing the contract's instalments with the
    amount to match to each (oldest due first by default); the list's button confirms with
    those defaults at once."""
    user = request.user
    payment = _payment_for(user, pk, Action.APPROVE)
    instalments = list(payment.contract.instalments.order_by("due_on", "position", "pk"))
    back = next_url(request, reverse("contracts:payment_list"))
    errors: dict[int, str] = {}
    problems: list[str] = []
    if request.method == "POST":
        allocations, errors = _posted_allocations(request, instalments)
        version = request.POST.get("version") or None
        if not errors:
            try:
                payments.confirm_payment(
                    payment,
                    by=user,
                    allocations=allocations,
                    version=int(version) if version and version.isdigit() else None,
                )
            except (ValidationError, Conflict, PermissionDenied) as exc:
                exc = _refusal(exc)
                problems = (
                    [str(exc.message)]
                    if isinstance(exc, Conflict)
                    else [str(m) for m in exc.messages]
                )
            else:
                messages.success(
                    request,
                    _("The payment of %(contract)s was confirmed.")
                    % {"contract": payment.contract.number},
                )
                return redirect(back)
    suggested = _suggested(instalments, payment.amount)
    rows = [
        {
            "instalment": i,
            "value": request.POST.get(f"alloc_{i.pk}", suggested[i.pk])
            if request.method == "POST"
            else suggested[i.pk],
            "error": errors.get(i.pk, ""),
        }
        for i in instalments
    ]
    return render(
        request,
        "contracts/payment_list_confirm.html",
        {
            "payment": payment,
            "rows": rows,
            "problems": problems,
            "back": back,
            "today": timezone.localdate(),
        },
        status=400 if (errors or problems) else 200,
    )


@login_required
def payment_reject(request, pk: int):
    """Finance refuses a payment awaiting confirmation, with a reason."""
    user = request.user
    payment = _payment_for(user, pk, Action.APPROVE)
    back = next_url(request, reverse("contracts:payment_list"))
    form = ReasonForm(request.POST or None, initial={"version": payment.version})
    if request.method == "POST" and form.is_valid():
        try:
            payments.reject_payment(
                payment,
                by=user,
                reason=form.cleaned_data["reason"],
                version=form.cleaned_data["version"],
            )
        except (ValidationError, Conflict, PermissionDenied) as exc:
            add_service_error(form, _refusal(exc))
        else:
            messages.success(
                request,
                _("The payment of %(contract)s was rejected.")
                % {"contract": payment.contract.number},
            )
            return redirect(back)
    return render(
        request,
        "contracts/payment_list_reject.html",
        {"payment": payment, "form": form, "back": back},
        status=400 if form.errors else 200,
    )


@login_required
def payment_delete(request, pk: int):
    """Remove a payment (its recorder while unconfirmed, or finance), after a confirmation."""
    user = request.user
    payment = get_for(user, Payment.objects.select_related("contract", "customer"), pk)
    if not _may_delete_payment(user, payment):
        raise PermissionDenied(_("You do not have permission to do this."))
    back = next_url(request, reverse("contracts:payment_list"))
    problem = ""
    if request.method == "POST":
        try:
            payments.delete_payment(payment, by=user)
        except (ValidationError, PermissionDenied) as exc:
            problem = " ".join(str(m) for m in _refusal(exc).messages)
        else:
            messages.success(
                request,
                _("The payment of %(contract)s was deleted.")
                % {"contract": payment.contract.number},
            )
            return redirect(back)
    return render(
        request,
        "contracts/payment_list_delete.html",
        {"payment": payment, "back": back, "problem": problem},
        status=400 if problem else 200,
    )


# --- Invoices ---------------------------------------------------------------------------------


@login_required
def invoice_list(request):
    """Invoices within the user's scope: filters by status, type, issue dates, owner; the
    total of the filter; pages."""
    user = request.user
    require(user, Invoice.record_type, Action.VIEW)
    owners = _owners(user, Invoice.record_type)
    form = InvoiceFilterForm(request.GET, owners=owners)
    form.is_valid()
    data = {k: v for k, v in form.cleaned_data.items() if k not in form.errors}

    found = Invoice.objects.visible_to(user)
    if data.get("q"):
        q = data["q"].strip()
        found = found.filter(
            Q(number__icontains=q)
            | Q(contract__number__icontains=q)
            | Q(customer__short_name__icontains=q)
        )
    if data.get("status"):
        found = found.filter(status=data["status"])
    if data.get("kind"):
        found = found.filter(kind=data["kind"])
    if data.get("issued_from"):
        found = found.filter(issued_on__gte=data["issued_from"])
    if data.get("issued_until"):
        found = found.filter(issued_on__lte=data["issued_until"])
    if data.get("owner"):
        found = found.filter(contract__owner=data["owner"])
    customer = None
    if data.get("customer"):
        found = found.filter(customer_id=data["customer"])
        customer = found.values_list("customer__short_name", flat=True).first()

    page = paginate(
        request,
        found.select_related("contract__owner", "customer", "created_by").order_by(
            "-created_at", "-pk"
        ),
    )
    rows = list(page.object_list)
    editable = _allowed(found, user, Action.EDIT, [i.pk for i in rows])
    for invoice in rows:
        changeable = invoice.pk in editable
        invoice.may_issue = changeable and invoice.status == InvoiceStatus.REQUESTED
        invoice.may_void = changeable and invoice.status != InvoiceStatus.VOID
        invoice.badge = STATUS_BADGES.get(invoice.status, "bg-secondary-lt")
    filtered = any(request.GET.get(k) for k in InvoiceFilterForm.base_fields)
    return render(
        request,
        "contracts/invoice_list.html",
        {
            "form": form,
            "data": data,
            "owners": list(owners),
            "statuses": InvoiceStatus.choices,
            "kinds": InvoiceKind.choices,
            "customer_name": customer,
            "page_obj": page,
            "invoices": rows,
            "totals": _totals(found.exclude(status=InvoiceStatus.VOID)),
            "filtered": filtered,
            "back": request.get_full_path(),
        },
        status=400 if form.errors else 200,
    )


def _invoice_for(user: User, pk: int) -> Invoice:
    return get_for_action(
        user, Invoice.objects.select_related("contract", "customer"), pk, Action.EDIT
    )


@login_required
def invoice_issue(request, pk: int):
    """Finance issues a requested invoice: its number and the day it was issued."""
    user = request.user
    invoice = _invoice_for(user, pk)
    back = next_url(request, reverse("contracts:invoice_list"))
    form = IssueForm(
        request.POST or None,
        initial={"issued_on": timezone.localdate(), "version": invoice.version},
    )
    if request.method == "POST" and form.is_valid():
        try:
            invoices.issue_invoice(
                invoice,
                number=form.cleaned_data["number"],
                issued_on=form.cleaned_data["issued_on"],
                by=user,
                version=form.cleaned_data["version"],
            )
        except (ValidationError, Conflict, PermissionDenied) as exc:
            add_service_error(form, _refusal(exc))
        else:
            messages.success(
                request,
                _("Invoice %(number)s was issued.") % {"number": form.cleaned_data["number"]},
            )
            return redirect(back)
    return render(
        request,
        "contracts/invoice_list_issue.html",
        {"invoice": invoice, "form": form, "back": back},
        status=400 if form.errors else 200,
    )


@login_required
def invoice_void(request, pk: int):
    """Finance voids an invoice, with a reason, after a confirmation."""
    user = request.user
    invoice = _invoice_for(user, pk)
    back = next_url(request, reverse("contracts:invoice_list"))
    form = ReasonForm(request.POST or None, initial={"version": invoice.version})
    if request.method == "POST" and form.is_valid():
        try:
            invoices.void_invoice(
                invoice,
                by=user,
                reason=form.cleaned_data["reason"],
                version=form.cleaned_data["version"],
            )
        except (ValidationError, Conflict, PermissionDenied) as exc:
            add_service_error(form, _refusal(exc))
        else:
            messages.success(request, _("The invoice was voided."))
            return redirect(back)
    return render(
        request,
        "contracts/invoice_list_void.html",
        {"invoice": invoice, "form": form, "back": back},
        status=400 if form.errors else 200,
    )
