"""Money of contracts: payment plans (instalments), payments received (回款) and their matching
to instalments, and sales credit — the rule for "what happens when a payment arrives".

Who may do what comes from the grants on "payment": whoever may approve payments (finance)
records confirmed payments and confirms, rejects or deletes the others'; reps record what their
customers paid and finance confirms it. Only confirmed payments count as received
(``Instalment.paid_amount``, ``Contract.received_amount``, kept here under a lock of the
contract) and, with the default credit rule, earn sales credit.

Sales credit is read through ``credits``, ``credited_total``, ``credit_by_owner`` and
``credit_by_unit`` only: targets, leaderboards and dashboards never read SalesCredit rows
themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, F, Q, QuerySet, Sum, Value, When
from django.dispatch import Signal
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tuoke.core import audit
from tuoke.core import services as core_services
from tuoke.core.errors import Conflict, ErrorCode, field_error
from tuoke.core.models import Action, AuditEntry, Scope
from tuoke.core.scope import scope_of

from .models import (
    Contract,
    ContractSettings,
    ContractStatus,
    CreditRule,
    Instalment,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentStatus,
    SalesCredit,
)

if TYPE_CHECKING:
    from tuoke.org.models import OrgUnit, User


class PaymentError(StrEnum):
    """Error codes of payment plans, payments and credit, beside the common ``ErrorCode``."""

    CONTRACT_STATUS = "contract_status"  # the contract's status does not allow it
    PLAN_TOTAL = "plan_total"  # instalments add up to more than the contract
    PAID = "paid"  # an instalment with money matched cannot go below it or be removed
    OVER_PAYMENT = "over_payment"  # received money above the contract's amount
    NOT_UNCONFIRMED = "not_unconfirmed"  # confirming or rejecting a decided payment
    ALLOCATION = "allocation"  # a match to instalments that does not fit
    FUTURE = "future"  # money received tomorrow


def _error(field: str, message: Any, code: PaymentError | ErrorCode | str) -> ValidationError:
    return field_error(field, message, cast(ErrorCode, code))


def _locked_error() -> ValidationError:
    """The contracts services' own refusal of a pending contract (same code and message)."""
    from .services import ContractError  # services call this module: imported when needed

    return _error(
        "status",
        _("This contract is pending approval and cannot be changed."),
        ContractError.LOCKED,
    )


payment_confirmed = Signal()
"""Sent when a payment counts as received (recorded by finance or confirmed by finance), with
``payment`` and ``by``; inside the transaction (receivers defer side effects with on_commit)."""

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("99999999999999.99")  # 16 digits, 2 decimals
NOTE_MAX = 500
REFERENCE_MAX = 100
PLAN_NOTE_MAX = 200
PLAN_MAX = 120  # instalments per contract (ten years of months)
RECEIVED = (PaymentStatus.CONFIRMED, PaymentStatus.UNCONFIRMED)


# --- Small helpers ------------------------------------------------------------------------------


def _money_text(amount: Decimal, currency: str) -> str:
    from tuoke.core.money import format_money

    return format_money(amount, currency)


def _amount(value: Any, field: str) -> Decimal:
    """A positive amount of money rounded to cents."""
    if value is None or value == "":
        raise _error(field, _("Enter the amount."), ErrorCode.REQUIRED)
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).replace(",", ""))
    except (InvalidOperation, ValueError, TypeError):
        raise _error(field, _("Enter a number."), ErrorCode.INVALID) from None
    if not number.is_finite():
        raise _error(field, _("Enter a number."), ErrorCode.INVALID)
    number = number.quantize(CENT)
    if number <= 0:
        raise _error(field, _("The amount must be greater than zero."), ErrorCode.INVALID)
    if number > MAX_AMOUNT:
        raise _error(field, _("This amount is too large."), ErrorCode.INVALID)
    return number


def _day(value: Any, field: str) -> date:
    if value is None or value == "":
        raise _error(field, _("Enter a date."), ErrorCode.REQUIRED)
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _error(field, _("Enter a valid date (YYYY-MM-DD)."), ErrorCode.INVALID)


def _text(value: Any, field: str, limit: int) -> str:
    text = (value or "").strip() if isinstance(value, str) else ""
    if len(text) > limit:
        raise _error(
            field,
            _("Ensure this value has at most %(limit)s characters.") % {"limit": limit},
            ErrorCode.INVALID,
        )
    return text


def _pk(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if hasattr(value, "pk"):
        return value.pk
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _reaches(user: User, record_type: str, action: str, contract: Contract) -> bool:
    """Whether ``user``'s grant of ``action`` on ``record_type`` (a record of a contract:
    payment, invoice) reaches records of this contract."""
    scope = scope_of(user, record_type, action)
    if scope == Scope.NONE:
        return False
    if scope == Scope.ALL:
        return True
    return Contract.all_objects.filter(Contract.scope_q(user, scope), pk=contract.pk).exists()


def may_confirm(user: User, contract: Contract) -> bool:
    """Finance: may approve (confirm, reject, correct) payments of this contract."""
    return _reaches(user, Payment.record_type, Action.APPROVE, contract)


def may_record(user: User, contract: Contract) -> bool:
    """May record a payment received for this contract (reps: their own contracts)."""
    return may_confirm(user, contract) or _reaches(
        user, Payment.record_type, Action.CREATE, contract
    )


def _lock(contract: Contract) -> Contract:
    """The contract read again under a row lock: every change of its money goes through
    here first, so two payments never count the same remaining amount."""
    return Contract.all_objects.select_for_update().get(pk=contract.pk)


def _note_last_entry(instance: Any, note: str) -> None:
    """Attach a reason to the audit entry just written for ``instance``."""
    latest = audit.trail_of(instance).order_by("-pk").values_list("pk", flat=True).first()
    if latest is not None:
        AuditEntry.objects.filter(pk=latest).update(note=note[:500])


def _payment_list_url() -> str:
    try:
        return reverse("contracts:payment_list") + "?tab=awaiting"
    except NoReverseMatch:
        return ""


def _contract_url(contract: Contract) -> str:
    try:
        return reverse("contracts:contract_detail", args=[contract.pk])
    except NoReverseMatch:
        return ""


def _notify(recipients: Iterable[tuple[int, str]], *, title, kind: str, **facts) -> None:
    """Notify each (user id, language) in his language; ``title`` is a lazy format string
    filled with ``facts`` under that language."""
    from tuoke.core.notifications import notify

    by_language: dict[str, list[int]] = {}
    for pk, language in recipients:
        by_language.setdefault(language or settings.LANGUAGE_CODE, []).append(pk)
    url = facts.pop("url", "")
    actor = facts.pop("actor", None)
    for language, ids in by_language.items():
        with translation.override(language):
            notify(ids, kind=kind, title=str(title()) % facts, url=url, actor=actor)


def _finance_people() -> list[tuple[int, str]]:
    """Active people whose roles may approve payments (one query over the role grants)."""
    from tuoke.org.models import User

    rows = (
        User.objects.filter(
            is_active=True,
            roles__deleted_at__isnull=True,
            roles__grants__record_type=Payment.record_type,
            roles__grants__action__in=[Action.APPROVE, Action.ADMINISTER],
            roles__grants__scope__gt=Scope.NONE,
        )
        .values_list("pk", "language")
        .distinct()
    )
    return list(rows)


# --- Payment plans ------------------------------------------------------------------------------


def _plan_text(rows: Iterable[tuple[date, Decimal, str]], currency: str) -> str:
    """The plan as the audit trail shows it: "2025-03-31 ¥50,000.00 (首付款); …"."""
    parts = []
    for due_on, amount, note in rows:
        part = f"{due_on.isoformat()} {_money_text(amount, currency)}"
        parts.append(f"{part} ({note})" if note else part)
    return "; ".join(parts)


def _plan_entries(contract: Contract, instalments: Any, existing: dict[int, Instalment]):
    """Validated entries (existing instalment or None, due_on, amount, note), in the given
    order; errors name ``instalments.N.field``."""
    if instalments is None or isinstance(instalments, str | bytes | dict):
        raise _error("instalments", _("Give the instalments as a list."), ErrorCode.INVALID)
    entries = list(instalments)
    if len(entries) > PLAN_MAX:
        raise _error(
            "instalments",
            _("A payment plan has at most %(limit)s instalments.") % {"limit": PLAN_MAX},
            ErrorCode.INVALID,
        )
    seen: set[int] = set()
    cleaned = []
    for index, entry in enumerate(entries):
        prefix = f"instalments.{index}"
        if not isinstance(entry, dict):
            raise _error(prefix, _("Give each instalment as an object."), ErrorCode.INVALID)
        found = None
        raw_id = entry.get("id")
        if raw_id not in (None, ""):
            pk = _pk(raw_id)
            found = existing.get(pk) if pk is not None else None
            if pk is None or found is None or pk in seen:
                raise _error(
                    f"{prefix}.id",
                    _("This is not an instalment of this contract."),
                    ErrorCode.INVALID,
                )
            seen.add(pk)
        due_on = _day(entry.get("due_on"), f"{prefix}.due_on")
        amount = _amount(entry.get("amount"), f"{prefix}.amount")
        note = _text(entry.get("note", ""), f"{prefix}.note", PLAN_NOTE_MAX)
        if found is not None and amount < found.paid_amount:
            raise _error(
                f"{prefix}.amount",
                _("%(paid)s has already been received for this instalment: it cannot be less.")
                % {"paid": _money_text(found.paid_amount, contract.currency)},
                PaymentError.PAID,
            )
        cleaned.append((found, due_on, amount, note))
    return cleaned


@transaction.atomic
def set_payment_plan(
    contract: Contract, *, instalments: Any, by: User | None, version: int | None = None
) -> list[Instalment]:
    """Replace the contract's payment plan with ``instalments``: a list of {"id" (to keep
    and change an existing one), "due_on", "amount", "note"}; instalments left out are
    removed (soft-deleted). Positions follow the due dates. The plan may not add up to more
    than the contract; an instalment that money was matched to cannot be removed nor set
    below what it received. Drafts and effective contracts only (a pending one is locked).
    Audited on the contract (the plan before → after), whose version it moves on; raises
    Conflict when ``version`` is not the contract's stored one."""
    current = _lock(contract)
    if version is not None and version != current.version:
        raise Conflict()
    if current.status == ContractStatus.PENDING:
        raise _locked_error()
    if current.status not in (ContractStatus.DRAFT, ContractStatus.EFFECTIVE):
        raise _error(
            "instalments",
            _("The payment plan cannot be changed: the contract is %(status)s.")
            % {"status": current.get_status_display().lower()},
            PaymentError.CONTRACT_STATUS,
        )
    if by is not None and not _reaches(by, Contract.record_type, Action.EDIT, current):
        raise PermissionDenied(_("You do not have permission to do this."))
    existing = {i.pk: i for i in Instalment.objects.filter(contract=current).order_by("pk")}
    entries = _plan_entries(current, instalments, existing)
    total = sum((amount for _i, _d, amount, _n in entries), Decimal("0"))
    if total > current.amount:
        raise _error(
            "instalments",
            _(
                "The instalments add up to %(total)s, %(excess)s more than the contract's "
                "amount of %(amount)s."
            )
            % {
                "total": _money_text(total, current.currency),
                "excess": _money_text(total - current.amount, current.currency),
                "amount": _money_text(current.amount, current.currency),
            },
            PaymentError.PLAN_TOTAL,
        )
    kept = {found.pk for found, *_rest in entries if found is not None}
    removed = [i for pk, i in existing.items() if pk not in kept]
    paid = [i for i in removed if i.paid_amount > 0]
    if paid:
        raise _error(
            "instalments",
            _("Instalment %(position)s has received money and cannot be removed.")
            % {"position": paid[0].position},
            PaymentError.PAID,
        )
    before = _plan_text(
        ((i.due_on, i.amount, i.note) for i in sorted(existing.values(), key=_plan_order)),
        current.currency,
    )
    now = timezone.now()
    # Positions by due date; equal dates keep the order given.
    ordered = sorted(enumerate(entries), key=lambda pair: (pair[1][1], pair[0]))
    changed: list[Instalment] = []
    created: list[Instalment] = []
    for position, (_index, (found, due_on, amount, note)) in enumerate(ordered, start=1):
        if found is None:
            created.append(
                Instalment(
                    contract=current,
                    position=position,
                    due_on=due_on,
                    amount=amount,
                    note=note,
                    created_by=by,
                    updated_by=by,
                )
            )
            continue
        facts = (position, due_on, amount, note)
        if facts != (found.position, found.due_on, found.amount, found.note):
            found.position, found.due_on, found.amount, found.note = facts
            found.updated_by = by
            found.updated_at = now
            found.version = F("version") + 1  # type: ignore[assignment]
            changed.append(found)
    after = _plan_text(
        ((due_on, amount, note) for _i, (_f, due_on, amount, note) in ordered), current.currency
    )
    if changed:
        Instalment.objects.bulk_update(
            changed, ["position", "due_on", "amount", "note", "updated_by", "updated_at", "version"]
        )
    if created:
        Instalment.objects.bulk_create(created)
    if removed:
        Instalment.objects.filter(pk__in=[i.pk for i in removed]).update(
            deleted_at=now, deleted_by=by, updated_at=now, version=F("version") + 1
        )
    if before != after or changed or created or removed:
        Contract.all_objects.filter(pk=current.pk).update(
            version=F("version") + 1, updated_at=now, updated_by=by
        )
        if before != after:
            audit.record(
                current,
                kind=AuditEntry.Kind.UPDATE,
                actor=by,
                changes=[
                    {
                        "field": "instalments",
                        "label": str(Instalment._meta.verbose_name_plural),
                        "old": before,
                        "new": after,
                    }
                ],
            )
        contract.refresh_from_db(fields=["version", "updated_at", "updated_by"])
    return list(Instalment.objects.filter(contract=current).order_by("position", "pk"))


def _plan_order(instalment: Instalment) -> tuple:
    return (instalment.position, instalment.due_on, instalment.pk)


def payment_plan(contract: Contract) -> list[Instalment]:
    """The contract's living instalments in order (one query)."""
    return list(Instalment.objects.filter(contract=contract).order_by("position", "due_on", "pk"))


# --- Matching payments to instalments -----------------------------------------------------------


def _open_instalments(contract: Contract) -> list[Instalment]:
    """The contract's instalments still owed something, oldest due first."""
    return [
        i
        for i in Instalment.objects.filter(contract=contract).order_by("due_on", "position", "pk")
        if i.paid_amount < i.amount
    ]


def _plan_allocations(
    contract: Contract, amount: Decimal, allocations: Any
) -> list[tuple[Instalment, Decimal]]:
    """(instalment, share) for a payment of ``amount``: the given allocations (each within
    the instalment's outstanding; together the whole payment, unless nothing would be left
    open to match the rest to) or, without them, the oldest due instalments first. What no
    instalment can take stays unmatched (it still counts as received)."""
    open_ones = _open_instalments(contract)
    if allocations is None:
        left = amount
        shares = []
        for instalment in open_ones:
            if left <= 0:
                break
            share = min(left, instalment.amount - instalment.paid_amount)
            shares.append((instalment, share))
            left -= share
        return shares
    if isinstance(allocations, str | bytes | dict):
        raise _error("allocations", _("Give the allocations as a list."), ErrorCode.INVALID)
    by_pk = {i.pk: i for i in Instalment.objects.filter(contract=contract)}
    shares = []
    seen: set[int] = set()
    total = Decimal("0")
    for index, entry in enumerate(allocations):
        prefix = f"allocations.{index}"
        if not isinstance(entry, dict):
            raise _error(prefix, _("Give each allocation as an object."), ErrorCode.INVALID)
        pk = _pk(entry.get("instalment", entry.get("instalment_id")))
        chosen = by_pk.get(pk) if pk is not None else None
        if pk is None or chosen is None or pk in seen:
            raise _error(
                f"{prefix}.instalment",
                _("Choose an instalment of this contract."),
                PaymentError.ALLOCATION,
            )
        instalment = chosen
        seen.add(pk)
        share = _amount(entry.get("amount"), f"{prefix}.amount")
        outstanding = instalment.amount - instalment.paid_amount
        if share > outstanding:
            raise _error(
                f"{prefix}.amount",
                _("Instalment %(position)s still awaits only %(outstanding)s.")
                % {
                    "position": instalment.position,
                    "outstanding": _money_text(outstanding, contract.currency),
                },
                PaymentError.ALLOCATION,
            )
        shares.append((instalment, share))
        total += share
    if total > amount:
        raise _error(
            "allocations",
            _("The allocations add up to %(total)s, more than the payment of %(amount)s.")
            % {
                "total": _money_text(total, contract.currency),
                "amount": _money_text(amount, contract.currency),
            },
            PaymentError.ALLOCATION,
        )
    if total < amount:
        matched = {i.pk: s for i, s in shares}
        still_open = [i for i in open_ones if i.amount - i.paid_amount > matched.get(i.pk, 0)]
        if still_open:
            raise _error(
                "allocations",
                _(
                    "Match the whole payment: %(rest)s is left unmatched while instalment "
                    "%(position)s is still open."
                )
                % {
                    "rest": _money_text(amount - total, contract.currency),
                    "position": still_open[0].position,
                },
                PaymentError.ALLOCATION,
            )
    return shares


def _add_paid(shares: dict[int, Decimal], *, sign: int) -> None:
    """Add (or take back) each instalment's share to its paid amount: one UPDATE by F()."""
    if not shares:
        return
    Instalment.all_objects.filter(pk__in=list(shares)).update(
        paid_amount=F("paid_amount")
        + Case(
            *(When(pk=pk, then=Value(sign * share)) for pk, share in shares.items()),
            output_field=Instalment._meta.get_field("paid_amount"),
        )
    )


def _apply(payment: Payment, contract: Contract, shares: list[tuple[Instalment, Decimal]]) -> None:
    """Count a confirmed payment as received: its matches, the instalments' paid amounts
    and the contract's received amount, all by F() under the contract's lock."""
    matched = [(i, s) for i, s in shares if s > 0]
    PaymentAllocation.objects.bulk_create(
        PaymentAllocation(payment=payment, instalment=i, amount=s) for i, s in matched
    )
    _add_paid({i.pk: s for i, s in matched}, sign=1)
    Contract.all_objects.filter(pk=contract.pk).update(
        received_amount=F("received_amount") + payment.amount
    )


def _unapply(payment: Payment, contract: Contract) -> None:
    """Take a confirmed payment out of what was received (its matches are deleted)."""
    matches: dict[int, Decimal] = {}
    for instalment_id, share in PaymentAllocation.objects.filter(payment=payment).values_list(
        "instalment_id", "amount"
    ):
        matches[instalment_id] = matches.get(instalment_id, Decimal("0")) + share
    _add_paid(matches, sign=-1)
    PaymentAllocation.objects.filter(payment=payment).delete()
    Contract.all_objects.filter(pk=contract.pk).update(
        received_amount=F("received_amount") - payment.amount
    )


def _check_takes_payments(contract: Contract) -> None:
    if contract.deleted_at is not None or contract.status not in (
        ContractStatus.EFFECTIVE,
        ContractStatus.COMPLETED,
    ):
        raise _error(
            "contract",
            _("Payments are recorded for effective or completed contracts only."),
            PaymentError.CONTRACT_STATUS,
        )


def _check_within_amount(contract: Contract, amount: Decimal) -> None:
    """The contract's payments (confirmed and awaiting) with ``amount`` within its amount."""
    remaining = contract.amount - _received_total(contract)
    if amount > remaining:
        raise _error(
            "amount",
            _(
                "This payment would take the contract above its amount: only %(remaining)s "
                "remains to be received. Finance may allow an over-payment."
            )
            % {"remaining": _money_text(max(remaining, Decimal("0")), contract.currency)},
            PaymentError.OVER_PAYMENT,
        )


def check_restore(payment: Payment) -> None:
    """A payment comes back from the recycle bin as it could be recorded: for a contract
    that takes payments and, unless it was allowed as an over-payment, within the contract's
    amount (a deleted payment always comes back awaiting finance, see delete_payment)."""
    if payment.status not in RECEIVED:
        return  # a rejected one counts for nothing
    contract = _lock(payment.contract)
    _check_takes_payments(contract)
    if not payment.over_payment:
        _check_within_amount(contract, payment.amount)


def _received_total(contract: Contract, *, but: int | None = None) -> Decimal:
    """Confirmed and unconfirmed payments of the contract (living ones)."""
    rows = Payment.objects.filter(contract=contract, status__in=RECEIVED)
    if but is not None:
        rows = rows.exclude(pk=but)
    return rows.aggregate(total=Sum("amount"))["total"] or Decimal("0")


def _count_as_received(payment: Payment, contract: Contract, shares, *, by: User | None) -> None:
    """What follows a payment becoming confirmed: matches, credit, lifecycle, signal."""
    from tuoke.customers.models import Customer, LifecycleStatus
    from tuoke.customers.services import Cause, advance_lifecycle

    _apply(payment, contract, shares)
    if credit_rule() == CreditRule.ON_PAYMENT:
        _credit(
            contract,
            payment=payment,
            cause=SalesCredit.Cause.PAYMENT,
            amount=payment.amount,
            on=payment.received_on,
        )
    first = (
        not Payment.objects.filter(customer_id=payment.customer_id, status=PaymentStatus.CONFIRMED)
        .exclude(pk=payment.pk)
        .exists()
    )
    if first:
        customer = Customer.all_objects.select_for_update().get(pk=payment.customer_id)
        advance_lifecycle(customer, to=LifecycleStatus.SIGNED, cause=Cause.FIRST_PAYMENT, by=by)
    payment_confirmed.send(sender=Payment, payment=payment, by=by)


# --- Payments -----------------------------------------------------------------------------------


def _check_method(value: Any) -> str:
    if value not in PaymentMethod.values:
        raise _error("method", _("Choose a payment method."), ErrorCode.INVALID)
    return value


@transaction.atomic
def record_payment(
    *,
    contract: Contract,
    amount: Any,
    received_on: Any,
    by: User,
    method: str = PaymentMethod.BANK_TRANSFER,
    reference: str = "",
    note: str = "",
    over_payment: bool = False,
    allocations: list[dict] | None = None,
) -> Payment:
    """Record money received for an effective (or completed) contract, in its currency.

    Recorded by someone who may approve payments (finance) it is confirmed at once: matched
    to instalments (``allocations`` [{"instalment", "amount"}] or oldest due first), counted
    as received and credited; recorded by a rep it awaits finance, who is notified (only
    finance matches payments: a rep's ``allocations`` are refused). The contract's payments
    (confirmed and awaiting) may not add up to more than its amount unless ``over_payment``,
    which only finance may set."""
    if contract is None:
        raise _error("contract", _("Choose a contract."), ErrorCode.REQUIRED)
    current = _lock(contract)
    _check_takes_payments(current)
    if not may_record(by, current):
        raise PermissionDenied(_("You do not have permission to do this."))
    finance = may_confirm(by, current)
    amount = _amount(amount, "amount")
    received_on = _day(received_on, "received_on")
    if received_on > timezone.localdate():
        raise _error(
            "received_on", _("Money cannot be received in the future."), PaymentError.FUTURE
        )
    method = _check_method(method)
    reference = _text(reference, "reference", REFERENCE_MAX)
    note = _text(note, "note", NOTE_MAX)
    over_payment = bool(over_payment)
    if over_payment and not finance:
        raise _error(
            "over_payment", _("Only finance may allow an over-payment."), ErrorCode.FORBIDDEN
        )
    if allocations is not None and not finance:
        raise _error(
            "allocations",
            _("Finance matches payments to instalments when confirming them."),
            ErrorCode.FORBIDDEN,
        )
    if not over_payment:
        _check_within_amount(current, amount)
    shares = _plan_allocations(current, amount, allocations) if finance else []
    now = timezone.now()
    payment = core_services.create_record(
        Payment,
        by=by,
        contract=current,
        customer_id=current.customer_id,
        amount=amount,
        currency=current.currency,
        received_on=received_on,
        method=method,
        reference=reference,
        note=note,
        over_payment=over_payment,
        status=PaymentStatus.CONFIRMED if finance else PaymentStatus.UNCONFIRMED,
        confirmed_by=by if finance else None,
        confirmed_at=now if finance else None,
    )
    if finance:
        _count_as_received(payment, current, shares, by=by)
    else:
        _notify(
            [p for p in _finance_people() if p[0] != by.pk],
            kind="payment",
            title=lambda: _("%(person)s recorded a payment of %(amount)s for %(contract)s"),
            person=by,
            amount=_money_text(amount, current.currency),
            contract=current,
            url=_payment_list_url(),
            actor=by,
        )
    contract.received_amount = Contract.all_objects.values_list("received_amount", flat=True).get(
        pk=current.pk
    )
    return payment


def _lock_payment(payment: Payment) -> tuple[Contract, Payment]:
    contract = _lock(payment.contract)
    current = Payment.all_objects.select_for_update().get(pk=payment.pk)
    return contract, current


def _refresh(payment: Payment, current: Payment) -> None:
    for name in ("status", "confirmed_by_id", "confirmed_at", "version", "deleted_at"):
        setattr(payment, name, getattr(current, name))


def _check_undecided(payment: Payment, version: int | None) -> None:
    if payment.deleted_at is not None:
        raise _error("status", _("This payment was deleted."), PaymentError.NOT_UNCONFIRMED)
    if version is not None and version != payment.version:
        raise Conflict()
    if payment.status != PaymentStatus.UNCONFIRMED:
        raise _error(
            "status",
            _("This payment is already %(status)s.")
            % {"status": payment.get_status_display().lower()},
            PaymentError.NOT_UNCONFIRMED,
        )


@transaction.atomic
def confirm_payment(
    payment: Payment,
    *,
    by: User,
    allocations: list[dict] | None = None,
    version: int | None = None,
) -> Payment:
    """Finance confirms a payment a rep recorded: it is matched to instalments (the given
    ``allocations`` or oldest due first), counted as received, credited under the payment
    rule, and the customer's first payment signs him. The recorder is told."""
    contract, current = _lock_payment(payment)
    if not may_confirm(by, contract):
        raise PermissionDenied(_("You do not have permission to do this."))
    _check_undecided(current, version)
    shares = _plan_allocations(contract, current.amount, allocations)
    current = core_services.update_record(
        current,
        by=by,
        status=PaymentStatus.CONFIRMED,
        confirmed_by=by,
        confirmed_at=timezone.now(),
    )
    _count_as_received(current, contract, shares, by=by)
    if current.created_by_id and current.created_by_id != by.pk:
        _notify(
            _people([current.created_by_id]),
            kind="payment",
            title=lambda: _("%(person)s confirmed the payment of %(amount)s for %(contract)s"),
            person=by,
            amount=_money_text(current.amount, current.currency),
            contract=contract,
            url=_contract_url(contract),
            actor=by,
        )
    _refresh(payment, current)
    return payment


def _people(ids: list[int]) -> list[tuple[int, str]]:
    from tuoke.org.models import User

    return list(User.objects.filter(pk__in=ids, is_active=True).values_list("pk", "language"))


@transaction.atomic
def reject_payment(
    payment: Payment, *, by: User, reason: str, version: int | None = None
) -> Payment:
    """Finance refuses a payment awaiting confirmation (the money did not arrive …), saying
    why: the reason is kept in the audit trail and sent to the recorder."""
    contract, current = _lock_payment(payment)
    if not may_confirm(by, contract):
        raise PermissionDenied(_("You do not have permission to do this."))
    reason = _text(reason, "reason", NOTE_MAX)
    if not reason:
        raise _error("reason", _("Say why the payment is rejected."), ErrorCode.REQUIRED)
    _check_undecided(current, version)
    current = core_services.update_record(current, by=by, status=PaymentStatus.REJECTED)
    _note_last_entry(current, reason)
    if current.created_by_id and current.created_by_id != by.pk:
        _notify(
            _people([current.created_by_id]),
            kind="payment",
            title=lambda: _(
                "%(person)s rejected the payment of %(amount)s for %(contract)s: %(reason)s"
            ),
            person=by,
            amount=_money_text(current.amount, current.currency),
            contract=contract,
            reason=reason,
            url=_contract_url(contract),
            actor=by,
        )
    _refresh(payment, current)
    return payment


@transaction.atomic
def delete_payment(payment: Payment, *, by: User) -> None:
    """Move a payment to the recycle bin. One awaiting finance (or rejected) may be deleted
    by its recorder or finance; a confirmed one by finance only, and it is first taken out
    of what was received: its matches and the instalments' paid amounts undone, its credit
    reversed (a negative credit row on the same day), and it goes back to awaiting
    confirmation — so that restoring it from the bin needs finance to confirm it again."""
    contract, current = _lock_payment(payment)
    if current.deleted_at is not None:
        return
    finance = may_confirm(by, contract) or _reaches(
        by, Payment.record_type, Action.DELETE, contract
    )
    if current.status == PaymentStatus.CONFIRMED:
        if not may_confirm(by, contract):
            raise PermissionDenied(_("Only finance may delete a confirmed payment."))
        _unapply(current, contract)
        _reverse_credit(current)
        current = core_services.update_record(
            current, by=by, status=PaymentStatus.UNCONFIRMED, confirmed_by=None, confirmed_at=None
        )
    elif not finance and current.created_by_id != by.pk:
        raise PermissionDenied(_("You do not have permission to do this."))
    core_services.soft_delete(current, by=by)
    _refresh(payment, current)


# --- Sales credit -------------------------------------------------------------------------------


def credit_rule() -> str:
    """When sales are credited: "payment" (money confirmed, the default) or "approval"
    (the contract becomes effective), as the administrator set it."""
    return ContractSettings.current().credit_rule


def _reporting_amount(amount: Decimal, currency: str, on: date) -> Decimal:
    """``amount`` in the reporting currency at the rate of ``on``. Without a rate on or
    before that day the earliest later one is used (a rate entered after the fact); with no
    rate of the currency at all the credit is refused (MissingRate names the currency): the
    figures leaderboards rank people by are never guessed."""
    from tuoke.core.models import ExchangeRate
    from tuoke.core.money import MissingRate, reporting_currency, to_reporting

    try:
        return to_reporting(amount, currency, on=on)
    except MissingRate:
        if reporting_currency() != currency:
            later = (
                ExchangeRate.objects.filter(currency=currency, valid_on__gt=on)
                .order_by("valid_on", "pk")
                .values_list("valid_on", flat=True)
                .first()
            )
            if later is not None:
                return to_reporting(amount, currency, on=later)
        raise


def _credit(
    contract: Contract,
    *,
    payment: Payment | None,
    cause: str,
    amount: Decimal,
    on: date,
) -> SalesCredit:
    owner = contract.owner
    return SalesCredit.objects.create(
        contract=contract,
        payment=payment,
        owner=owner,
        unit_id=owner.unit_id,
        cause=cause,
        amount=amount,
        currency=contract.currency,
        reporting_amount=_reporting_amount(amount, contract.currency, on),
        credited_on=on,
    )


def _reverse_credit(payment: Payment) -> None:
    """Cancel what the payment earned: per credited owner, a negative row of the same day
    (the figures of that period come out as if the money had never arrived)."""
    rows = list(
        SalesCredit.objects.filter(payment=payment)
        .values("contract_id", "owner_id", "unit_id", "currency", "credited_on")
        .annotate(amount=Sum("amount"), reporting_amount=Sum("reporting_amount"))
    )
    SalesCredit.objects.bulk_create(
        SalesCredit(
            contract_id=row["contract_id"],
            payment=payment,
            owner_id=row["owner_id"],
            unit_id=row["unit_id"],
            cause=SalesCredit.Cause.REVERSAL,
            amount=-row["amount"],
            currency=row["currency"],
            reporting_amount=-row["reporting_amount"],
            credited_on=row["credited_on"],
        )
        for row in rows
        if row["amount"]
    )


@transaction.atomic
def credit_contract_effective(contract: Contract, *, by: User | None) -> SalesCredit | None:
    """Under the approval rule, credit the whole contract to its owner on the day it became
    effective (called when it does); None under the payment rule or when it was credited
    already."""
    if credit_rule() != CreditRule.ON_APPROVAL:
        return None
    credited = SalesCredit.objects.filter(contract=contract, payment__isnull=True).aggregate(
        total=Sum("amount")
    )["total"] or Decimal("0")
    if credited:
        return None
    at = contract.effective_at or timezone.now()
    return _credit(
        contract,
        payment=None,
        cause=SalesCredit.Cause.APPROVAL,
        amount=contract.amount,
        on=timezone.localdate(at),
    )


def _ids(values: Any) -> list[int]:
    if values is None:
        return []
    if not isinstance(values, Iterable) or isinstance(values, str):
        values = [values]
    return [pk for pk in (_pk(v) for v in values) if pk is not None]


def _unit_ids(units: Any) -> QuerySet:
    """The given units and every unit below them."""
    from tuoke.org.models import OrgUnit

    paths = list(OrgUnit.all_objects.filter(pk__in=_ids(units)).values_list("path", flat=True))
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(path__startswith=path)
    return OrgUnit.all_objects.filter(condition).values("pk")


def credits(
    *,
    start: date,
    end: date,
    owners: Iterable[User | int] | User | int | None = None,
    units: Iterable[OrgUnit | int] | OrgUnit | int | None = None,
) -> QuerySet[SalesCredit]:
    """The credit rows of days ``start``…``end`` (both included), of ``owners`` and of
    ``units`` (each with the units below it; the unit is the owner's when credited) when
    given. Reversals are rows too (negative), so sums are net.

    THE way to read sales credit: targets, leaderboards and dashboards use this and the
    totals below, never SalesCredit directly. Not scoped: the caller passes the people or
    units the user may see."""
    rows = SalesCredit.objects.filter(credited_on__gte=start, credited_on__lte=end)
    if owners is not None:
        rows = rows.filter(owner_id__in=_ids(owners))
    if units is not None:
        rows = rows.filter(unit_id__in=_unit_ids(units))
    return rows


def credited_total(
    *,
    start: date,
    end: date,
    owner: User | int | None = None,
    unit: OrgUnit | int | None = None,
) -> Decimal:
    """Net credit of the period in the reporting currency (at each credit's own day's rate),
    for one owner and/or one unit (with its sub-units), or everyone."""
    rows = credits(
        start=start,
        end=end,
        owners=[owner] if owner is not None else None,
        units=[unit] if unit is not None else None,
    )
    return rows.aggregate(total=Sum("reporting_amount"))["total"] or Decimal("0")


def credit_by_owner(
    *, start: date, end: date, owners: Iterable[User | int] | None = None
) -> dict[int, Decimal]:
    """Net credit of the period per owner id, in the reporting currency (one query);
    owners without credit are absent."""
    rows = (
        credits(start=start, end=end, owners=owners)
        .order_by()
        .values("owner_id")
        .annotate(total=Sum("reporting_amount"))
    )
    return {row["owner_id"]: row["total"] for row in rows}


def credit_by_unit(
    *, start: date, end: date, units: Iterable[OrgUnit | int] | None = None
) -> dict[int | None, Decimal]:
    """Net credit of the period per unit id the owners were in when credited (not rolled up
    to parent units), in the reporting currency (one or two queries)."""
    rows = (
        credits(start=start, end=end, units=units)
        .order_by()
        .values("unit_id")
        .annotate(total=Sum("reporting_amount"))
    )
    return {row["unit_id"]: row["total"] for row in rows}
