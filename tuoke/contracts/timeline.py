"""Contracts, their approvals, payments and invoices on the customer's timeline (registered
from ``hooks.install``).

A contract tells three moments from its own timestamps: drafted (``created_at``), effective
(``effective_at``) and completed or terminated (``closed_at``), each a source of its own so
that each is paged by its own time. Approvals are the actions of the requests whose target is
one of the customer's contracts; payments and invoices are one event each, when they were
recorded, saying where they stand now. Each is seen as its own record type's data scope
allows (the keys start from ``visible_to``).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db import models
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from tuoke.core.models import Action
from tuoke.core.money import format_money
from tuoke.core.scope import can
from tuoke.core.timeline import Event, Source, register, url_or_blank

from .models import Contract, ContractStatus, Invoice, InvoiceStatus, Payment, PaymentStatus


def money(amount: Decimal | None, currency: str) -> str:
    return format_money(amount, currency) if amount is not None else ""


def _details(rows: Iterable[tuple[str, str]]) -> str:
    shown = [(label, value) for label, value in rows if value]
    if not shown:
        return ""
    items = format_html_join(
        " · ", '<span class="text-secondary">{}:</span> {}', ((lbl, v) for lbl, v in shown)
    )
    return format_html('<div class="small">{}</div>', items)


def _note(text: str) -> str:
    if not text:
        return ""
    return format_html('<div class="small text-secondary text-break">{}</div>', text)


def _join(*parts: str) -> str:
    return mark_safe("".join(p for p in parts if p))  # noqa: S308 - each part is escaped


def _day(value) -> str:
    return value.isoformat() if value else ""


def contract_url(contract_id: int) -> str:
    return url_or_blank("contracts:contract_detail", contract_id)


def _visible_contracts(customer, user) -> models.QuerySet:
    return Contract.objects.visible_to(user).filter(customer=customer)


# --- Contracts: drafted, effective, ended -------------------------------------------------------


def contract_keys(customer, user) -> models.QuerySet:
    return _visible_contracts(customer, user)


def effective_keys(customer, user) -> models.QuerySet:
    return _visible_contracts(customer, user).filter(effective_at__isnull=False)


def closed_keys(customer, user) -> models.QuerySet:
    return _visible_contracts(customer, user).filter(
        closed_at__isnull=False,
        status__in=[ContractStatus.COMPLETED, ContractStatus.TERMINATED],
    )


def _contracts(pks: list[int]) -> list[Contract]:
    return list(
        Contract.objects.filter(pk__in=pks).select_related(
            "owner", "created_by", "updated_by", "renews"
        )
    )


def _terms(contract: Contract) -> list[tuple[str, str]]:
    period = ""
    if contract.starts_on or contract.ends_on:
        period = f"{_day(contract.starts_on) or '…'} → {_day(contract.ends_on) or '…'}"
    return [
        (_("Amount"), money(contract.amount, contract.currency)),
        (pgettext("contract period", "Term"), period),
        (_("Owner"), str(contract.owner)),
    ]


def load_contracts(pks: list[int], user) -> list[Event]:
    events = []
    for contract in _contracts(pks):
        renews = contract.renews
        rows = [
            *_terms(contract),
            (_("Renews"), renews.number if renews is not None else ""),
        ]
        title = (
            _("Renewal drafted: %(number)s %(title)s")
            if renews is not None
            else _("Contract drafted: %(number)s %(title)s")
        )
        events.append(
            Event(
                at=contract.created_at,
                kind="contract",
                pk=contract.pk,
                title=title % {"number": contract.number, "title": contract.title},
                body=_details(rows),
                actor=contract.created_by,
                url=contract_url(contract.pk),
            )
        )
    return events


def load_effective(pks: list[int], user) -> list[Event]:
    events = []
    for contract in _contracts(pks):
        events.append(
            Event(
                at=contract.effective_at,
                kind="contract_effective",
                pk=contract.pk,
                title=_("Contract effective: %(number)s %(title)s")
                % {"number": contract.number, "title": contract.title},
                body=_details([*_terms(contract), (_("Signed on"), _day(contract.signed_on))]),
                url=contract_url(contract.pk),
            )
        )
    return events


def load_closed(pks: list[int], user) -> list[Event]:
    events = []
    for contract in _contracts(pks):
        terminated = contract.status == ContractStatus.TERMINATED
        title = (
            _("Contract terminated: %(number)s %(title)s")
            if terminated
            else _("Contract completed: %(number)s %(title)s")
        )
        body = _join(
            _details(
                [
                    (_("Amount"), money(contract.amount, contract.currency)),
                    (
                        pgettext("money", "Received"),
                        money(contract.received_amount, contract.currency),
                    ),
                ]
            ),
            _note(contract.termination_reason if terminated else ""),
        )
        events.append(
            Event(
                at=contract.closed_at,
                kind="contract_closed",
                pk=contract.pk,
                title=title % {"number": contract.number, "title": contract.title},
                icon="file-x" if terminated else "file-check",
                color="red" if terminated else "teal",
                body=body,
                actor=contract.updated_by,
                url=contract_url(contract.pk),
            )
        )
    return events


# --- Approvals ----------------------------------------------------------------------------------


def approval_keys(customer, user) -> models.QuerySet:
    """The actions of the approval requests on the customer's contracts that the reader may
    see: the request within his approval scope (submitter, his managers, its approvers) and
    the contract within his contract scope."""
    from tuoke.org.models import ApprovalAction, ApprovalRequest

    requests = ApprovalRequest.objects.visible_to(user).filter(
        target=Contract.record_type,
        object_id__in=_visible_contracts(customer, user).values("pk"),
    )
    return ApprovalAction.objects.filter(request__in=requests.values("pk"))


def _approval_title(kind: str, request_title: str) -> str:
    from tuoke.org.models import ApprovalAction

    titles = {
        ApprovalAction.Kind.SUBMIT: _("Submitted for approval: %(title)s"),
        ApprovalAction.Kind.APPROVE: _("Approved: %(title)s"),
        ApprovalAction.Kind.REJECT: _("Approval rejected: %(title)s"),
        ApprovalAction.Kind.RETURN: _("Returned for changes: %(title)s"),
        ApprovalAction.Kind.WITHDRAW: _("Approval withdrawn: %(title)s"),
    }
    return titles.get(kind, "%(title)s") % {"title": request_title}


APPROVAL_LOOK = {
    "submit": ("send", "blue"),
    "approve": ("rubber-stamp", "green"),
    "reject": ("ban", "red"),
    "return": ("arrow-back-up", "orange"),
    "withdraw": ("arrow-back", "secondary"),
}


def load_approvals(pks: list[int], user) -> list[Event]:
    from tuoke.org.models import ApprovalAction

    rows = ApprovalAction.objects.filter(pk__in=pks).select_related("request", "step", "actor")
    events = []
    for action in rows:
        request = action.request
        step = action.step
        rows_ = [
            (_("Approval flow"), request.flow_name),
            (pgettext("approval", "Step"), f"{step.position}. {step.name}" if step else ""),
            (_("Amount"), money(request.amount, request.currency) if request.amount else ""),
        ]
        icon, color = APPROVAL_LOOK.get(action.kind, ("", ""))
        events.append(
            Event(
                at=action.at,
                kind="approval",
                pk=action.pk,
                title=_approval_title(action.kind, request.title),
                icon=icon,
                color=color,
                body=_join(_details(rows_), _note(action.comment)),
                actor=action.actor,
                url=url_or_blank("approvals:request_detail", request.pk),
            )
        )
    return events


# --- Payments -----------------------------------------------------------------------------------


def payment_keys(customer, user) -> models.QuerySet:
    return Payment.objects.visible_to(user).filter(customer=customer)


PAYMENT_LOOK = {
    PaymentStatus.CONFIRMED: ("cash-banknote", "green"),
    PaymentStatus.UNCONFIRMED: ("cash", "yellow"),
    PaymentStatus.REJECTED: ("cash-off", "red"),
}


def load_payments(pks: list[int], user) -> list[Event]:
    rows = Payment.objects.filter(pk__in=pks).select_related("contract", "created_by")
    events = []
    for payment in rows:
        amount = money(payment.amount, payment.currency)
        contract = payment.contract
        if payment.status == PaymentStatus.REJECTED:
            title = _("Payment rejected by finance: %(amount)s (%(number)s)")
        elif payment.status == PaymentStatus.UNCONFIRMED:
            title = _("Payment recorded, awaiting finance: %(amount)s (%(number)s)")
        else:
            title = _("Payment received: %(amount)s (%(number)s)")
        icon, color = PAYMENT_LOOK.get(payment.status, ("", ""))
        body = _join(
            _details(
                [
                    (_("Received on"), _day(payment.received_on)),
                    (_("Method"), payment.get_method_display()),
                    (_("Status"), payment.get_status_display()),
                    (_("Reference"), payment.reference),
                ]
            ),
            _note(payment.note),
        )
        events.append(
            Event(
                at=payment.created_at,
                kind="payment",
                pk=payment.pk,
                title=title % {"amount": amount, "number": contract.number},
                icon=icon,
                color=color,
                body=body,
                actor=payment.created_by,
                url=contract_url(contract.pk),
            )
        )
    return events


# --- Invoices -----------------------------------------------------------------------------------


def invoice_keys(customer, user) -> models.QuerySet:
    return Invoice.objects.visible_to(user).filter(customer=customer)


def load_invoices(pks: list[int], user) -> list[Event]:
    rows = Invoice.objects.filter(pk__in=pks).select_related("contract", "created_by")
    events = []
    for invoice in rows:
        values = {
            "amount": money(invoice.amount, invoice.currency),
            "number": invoice.contract.number,
        }
        if invoice.status == InvoiceStatus.VOID:
            title, color = _("Invoice voided: %(amount)s (%(number)s)"), "red"
        elif invoice.status == InvoiceStatus.ISSUED:
            title, color = _("Invoice issued: %(amount)s (%(number)s)"), "purple"
        else:
            title, color = _("Invoice requested: %(amount)s (%(number)s)"), "secondary"
        body = _join(
            _details(
                [
                    (_("Invoice type"), invoice.get_kind_display()),
                    (_("Invoice number"), invoice.number),
                    (_("Issued on"), _day(invoice.issued_on)),
                    (_("Tax rate"), f"{invoice.tax_rate.normalize():f}%"),
                    (_("Tax"), money(invoice.tax_amount, invoice.currency)),
                ]
            ),
            _note(invoice.note),
        )
        events.append(
            Event(
                at=invoice.created_at,
                kind="invoice",
                pk=invoice.pk,
                title=title % values,
                color=color,
                body=body,
                actor=invoice.created_by,
                url=contract_url(invoice.contract_id),
            )
        )
    return events


# --- Registration -------------------------------------------------------------------------------


def _sees(record_type: str):
    def sees(user) -> bool:
        return can(user, record_type, Action.VIEW)

    return sees


def _sees_approvals(user) -> bool:
    return can(user, "approval_request", Action.VIEW) and can(
        user, Contract.record_type, Action.VIEW
    )


def register_sources() -> None:
    sees_contracts = _sees(Contract.record_type)
    register(
        Source(
            key="contract",
            label=gettext_lazy("Contracts"),
            icon="file-certificate",
            color="blue",
            keys=contract_keys,
            load=load_contracts,
            order=40,
            available=sees_contracts,
        )
    )
    register(
        Source(
            key="contract_effective",
            label=gettext_lazy("Contracts in force"),
            icon="signature",
            color="green",
            keys=effective_keys,
            load=load_effective,
            at="effective_at",
            order=41,
            available=sees_contracts,
        )
    )
    register(
        Source(
            key="contract_closed",
            label=gettext_lazy("Contracts ended"),
            icon="file-check",
            color="teal",
            keys=closed_keys,
            load=load_closed,
            at="closed_at",
            order=42,
            available=sees_contracts,
        )
    )
    register(
        Source(
            key="approval",
            label=gettext_lazy("Approvals"),
            icon="rubber-stamp",
            color="orange",
            keys=approval_keys,
            load=load_approvals,
            at="at",
            order=43,
            available=_sees_approvals,
        )
    )
    register(
        Source(
            key="payment",
            label=gettext_lazy("Payments"),
            icon="cash-banknote",
            color="green",
            keys=payment_keys,
            load=load_payments,
            order=44,
            available=_sees(Payment.record_type),
        )
    )
    register(
        Source(
            key="invoice",
            label=gettext_lazy("Invoices"),
            icon="receipt-tax",
            color="purple",
            keys=invoice_keys,
            load=load_invoices,
            order=45,
            available=_sees(Invoice.record_type),
        )
    )
