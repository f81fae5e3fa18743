"""Every write on follow-ups, visits, comments and the follow-up kinds: logging a follow-up
(with what it sets off: the customer's last follow-up time, the lifecycle, the tasks it does
and the next step it plans), visits with their check-in, comments with @mentions."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.dispatch import Signal
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.text import slugify
from django.utils.translation import gettext as _

from tuoke.core import services as core_services
from tuoke.core.errors import ErrorCode, field_error
from tuoke.core.models import Action
from tuoke.core.scope import can, require
from tuoke.customers.models import Contact, Customer, LifecycleStatus
from tuoke.leads.models import Lead

from .models import Comment, FollowUp, FollowUpKind, Task, Visit

if TYPE_CHECKING:
    from tuoke.org.models import User


class ActivityError(StrEnum):
    """Error codes of follow-ups, visits and comments, beside the common ``ErrorCode``."""

    INACTIVE_KIND = "inactive_kind"
    IN_FUTURE = "in_future"
    ALREADY_CHECKED_IN = "already_checked_in"
    VISIT_CLOSED = "visit_closed"
    NOT_YOURS = "not_yours"
    LAST_KIND = "last_kind"


def _error(field: str, message, code: ActivityError | ErrorCode) -> ValidationError:
    return field_error(field, message, cast(ErrorCode, code))


# The plan source of the tasks a follow-up's next step makes (see tuoke.activities.plan).
NEXT_STEP_SOURCE = "next_step"
# A follow-up may be dated this far ahead of the server's clock (a phone's clock runs fast).
FUTURE_TOLERANCE = timedelta(minutes=10)
CONTENT_MAX = 5000


follow_up_logged = Signal()
"""Sent when a follow-up was logged (visits' follow-ups too), with ``follow_up`` and ``by``:
the hook for later apps (sales bumps the last activity of the customer's open opportunities)
instead of activities knowing them. Sent inside the transaction: receivers' writes commit or
roll back with it."""


def next_step_key(follow_up: FollowUp) -> str:
    return f"follow_up:{follow_up.pk}"


def on_days(field: str, since: date | None, until: date | None) -> Q:
    """Rows whose time ``field`` falls on these days (local, either end open): a range on
    the field itself, which its indexes serve (``field__date`` converts every row)."""
    from .plan import day_start

    # The first and last days a date can hold are open ends (their midnights would not fit
    # in a datetime once moved to UTC, and no follow-up or visit lies beyond them).
    condition = Q()
    if since is not None and since > date.min + timedelta(days=1):
        condition &= Q(**{f"{field}__gte": day_start(since)})
    if until is not None and until < date.max - timedelta(days=1):
        condition &= Q(**{f"{field}__lt": day_start(until + timedelta(days=1))})
    return condition


# --- Follow-up kinds ----------------------------------------------------------------------------


def active_kinds(*, keep: FollowUpKind | None = None) -> models.QuerySet[FollowUpKind]:
    """The kinds offered for a new follow-up, in their order; with ``keep`` (the kind a
    follow-up has), that one too: it stays choosable on the follow-ups that have it."""
    offered = Q(active=True) if keep is None else Q(active=True) | Q(pk=keep.pk)
    return FollowUpKind.objects.filter(offered).order_by("sort_order", "pk")


def kind_for(value: FollowUpKind | str | None, *, field: str = "kind") -> FollowUpKind:
    """A kind given as a row or by its key; unknown → an error on ``field``."""
    if isinstance(value, FollowUpKind):
        return value
    if not value:
        raise _error(field, _("Choose a kind of follow-up."), ErrorCode.REQUIRED)
    found = FollowUpKind.objects.filter(key=value).first()
    if found is None:
        raise _error(field, _("Unknown kind of follow-up."), ErrorCode.INVALID)
    return found


def _check_administer(by: User | None) -> None:
    if by is not None:
        require(by, FollowUpKind.record_type, Action.ADMINISTER)


def _new_kind_key(name: str) -> str:
    base = slugify(name)[:24] or "kind"
    key, n = base, 1
    while FollowUpKind.all_objects.filter(key=key).exists():
        n += 1
        key = f"{base}-{n}"[:30]
    return key


def _kind_name(name: str, *, exclude: FollowUpKind | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise _error("name", _("Give the kind a name."), ErrorCode.REQUIRED)
    if len(name) > 50:
        raise _error(
            "name", _("A name has at most %(count)s characters.") % {"count": 50}, ErrorCode.INVALID
        )
    others = FollowUpKind.objects.exclude(pk=getattr(exclude, "pk", None))
    if any(k.label.casefold() == name.casefold() for k in others):
        raise _error(
            "name",
            _("A kind named “%(name)s” exists already.") % {"name": name},
            ErrorCode.DUPLICATE,
        )
    return name


@transaction.atomic
def create_kind(*, by: User | None, name: str, icon: str = "message") -> FollowUpKind:
    """A new kind, last in the order (administrators)."""
    _check_administer(by)
    name = _kind_name(name)
    last = FollowUpKind.objects.aggregate(m=models.Max("sort_order"))["m"] or 0
    return core_services.create_record(
        FollowUpKind,
        by=by,
        key=_new_kind_key(name),
        name=name,
        icon=(icon or "message").strip()[:30],
        sort_order=last + 10,
    )


@transaction.atomic
def update_kind(
    kind: FollowUpKind,
    *,
    by: User | None,
    expected_version: int | None = None,
    name: str | None = None,
    icon: str | None = None,
) -> FollowUpKind:
    """Rename a kind (its key, what the API and links use, stays) or change its icon."""
    _check_administer(by)
    changes: dict[str, Any] = {}
    if name is not None and name.strip() != kind.label:
        changes["name"] = _kind_name(name, exclude=kind)
    if icon is not None:
        changes["icon"] = icon.strip()[:30] or "message"
    return core_services.update_record(kind, by=by, expected_version=expected_version, **changes)


@transaction.atomic
def set_kind_active(kind: FollowUpKind, *, by: User | None, active: bool) -> FollowUpKind:
    """Offer a kind again or no more; follow-ups logged with it keep it."""
    _check_administer(by)
    if not active and kind.active and not active_kinds().exclude(pk=kind.pk).exists():
        raise _error(
            "active", _("Keep at least one kind for new follow-ups."), ActivityError.LAST_KIND
        )
    return core_services.update_record(kind, by=by, active=active)


@transaction.atomic
def reorder_kinds(kinds: Iterable[FollowUpKind], *, by: User | None) -> None:
    """Put the kinds in this order (the others keep theirs, after them)."""
    _check_administer(by)
    ordered = list(kinds)
    rest = FollowUpKind.objects.exclude(pk__in=[k.pk for k in ordered]).order_by("sort_order", "pk")
    for position, kind in enumerate([*ordered, *rest]):
        if kind.sort_order != (position + 1) * 10:
            core_services.update_record(kind, by=by, sort_order=(position + 1) * 10)


@transaction.atomic
def move_kind(kind: FollowUpKind, *, by: User | None, step: int) -> None:
    """Move a kind one place up (step -1) or down (+1)."""
    kinds = list(FollowUpKind.objects.order_by("sort_order", "pk"))
    at = next(i for i, k in enumerate(kinds) if k.pk == kind.pk)
    to = min(max(at + step, 0), len(kinds) - 1)
    kinds.insert(to, kinds.pop(at))
    reorder_kinds(kinds, by=by)


# --- Follow-ups ---------------------------------------------------------------------------------


def _check_offered(kind: FollowUpKind, *, keep_id: int | None = None) -> None:
    if not kind.active and kind.pk != keep_id:
        raise _error(
            "kind",
            _("This kind is no longer offered; choose another."),
            ActivityError.INACTIVE_KIND,
        )


def _check_subject(customer: Customer | None, lead: Lead | None) -> None:
    if customer is None and lead is None:
        raise _error("customer", _("Choose the customer or lead."), ErrorCode.REQUIRED)


def _clean_text(value: str | None, field: str, limit: int, *, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        messages = {"content": _("Write what happened."), "body": _("Write a comment.")}
        raise _error(field, messages.get(field, _("This field is required.")), ErrorCode.REQUIRED)
    if len(value) > limit:
        raise _error(
            field,
            _("Ensure this value has at most %(max)s characters.") % {"max": limit},
            ErrorCode.INVALID,
        )
    return value


def _check_when(happened_at: datetime, next_step_on: date | None) -> None:
    if timezone.is_naive(happened_at):
        raise _error("happened_at", _("Give the time with its time zone."), ErrorCode.INVALID)
    if happened_at > timezone.now() + FUTURE_TOLERANCE:
        raise _error(
            "happened_at",
            _("A follow-up cannot lie in the future; plan a visit or a next step instead."),
            ActivityError.IN_FUTURE,
        )
    if next_step_on is not None and next_step_on < timezone.localdate(happened_at):
        raise _error(
            "next_step_on",
            _("The next step cannot come before the follow-up."),
            ErrorCode.INVALID,
        )


def _check_contacts(contacts: list[Contact], customer: Customer | None) -> None:
    if contacts and (customer is None or any(c.customer_id != customer.pk for c in contacts)):
        raise _error(
            "contacts", _("Choose contacts of the follow-up's customer."), ErrorCode.INVALID
        )


def _check_task(task: Task | None, customer: Customer | None, lead: Lead | None) -> None:
    if task is None:
        return
    wrong_customer = task.customer_id is not None and task.customer_id != getattr(
        customer, "pk", None
    )
    wrong_lead = task.lead_id is not None and task.lead_id != getattr(lead, "pk", None)
    if wrong_customer or wrong_lead:
        raise _error("task", _("This task is about another customer or lead."), ErrorCode.INVALID)


def _subject_q(customer: Customer | None, lead: Lead | None) -> Q:
    condition = Q(pk__in=[])
    if customer is not None:
        condition |= Q(customer=customer)
    if lead is not None:
        condition |= Q(lead=lead)
    return condition


def _touch_customer(customer: Customer, happened_at: datetime) -> None:
    """Move the customer's last follow-up time forward (never back: an older follow-up
    logged late leaves it). Not an edit of the customer: no version, no audit entry."""
    moved = (
        Customer.all_objects.filter(pk=customer.pk)
        .filter(Q(last_follow_up_at__isnull=True) | Q(last_follow_up_at__lt=happened_at))
        .update(last_follow_up_at=happened_at)
    )
    if moved:
        customer.last_follow_up_at = happened_at


def _complete_task(task: Task, *, by: User | None, follow_up: FollowUp) -> None:
    core_services.update_record(
        task, by=by, done_at=timezone.now(), done_by=by, done_with=follow_up
    )


def _next_step_title(next_step: str, follow_up: FollowUp) -> str:
    if next_step:
        return next_step
    subject = follow_up.customer or follow_up.lead
    return _("Follow up with %(name)s") % {"name": subject}


def _open_next_step_task(follow_up: FollowUp) -> Task | None:
    return (
        Task.objects.select_for_update()
        .filter(
            owner_id=follow_up.owner_id,
            source=NEXT_STEP_SOURCE,
            source_key=next_step_key(follow_up),
            done_at__isnull=True,
        )
        .first()
    )


def _sync_next_step(follow_up: FollowUp, *, by: User | None) -> Task | None:
    """The follow-up's next step as a task of its author, due on its date: made, moved or
    dropped with it. One open task per follow-up (the plan's unique source key)."""
    task = _open_next_step_task(follow_up)
    if follow_up.next_step_on is None or follow_up.deleted_at is not None:
        if task is not None:
            core_services.soft_delete(task, by=by)
        return None
    title = _next_step_title(follow_up.next_step, follow_up)[:200]
    if task is None:
        return core_services.create_record(
            Task,
            by=by,
            owner_id=follow_up.owner_id,
            title=title,
            due_on=follow_up.next_step_on,
            customer=follow_up.customer,
            lead=follow_up.lead,
            kind=follow_up.kind,
            source=NEXT_STEP_SOURCE,
            source_key=next_step_key(follow_up),
        )
    return core_services.update_record(task, by=by, title=title, due_on=follow_up.next_step_on)


@transaction.atomic
def log_follow_up(
    *,
    by: User,
    customer: Customer | None = None,
    lead: Lead | None = None,
    kind: FollowUpKind | str,
    content: str,
    happened_at: datetime | None = None,
    result: str = "",
    next_step: str = "",
    next_step_on: date | None = None,
    contacts: Iterable[Contact] = (),
    task: Task | None = None,
) -> FollowUp:
    """Record a touch with a customer or lead, and what follows from it:

    - the customer's last follow-up time moves forward to it;
    - the lifecycle hook: a customer still a "lead" becomes "potential";
    - the author's open tasks on that customer or lead due today or earlier, and ``task``
      (the one it was logged from), are done with it; so are his earlier next steps there
      when this one plans a new one;
    - with ``next_step_on``, a task for the next step, due that day.
    """
    return _log(
        by=by,
        customer=customer,
        lead=lead,
        kind=kind_for(kind),
        content=content,
        happened_at=happened_at,
        result=result,
        next_step=next_step,
        next_step_on=next_step_on,
        contacts=contacts,
        task=task,
        allow_inactive_kind=False,
    )


def _log(
    *,
    by: User,
    customer: Customer | None,
    lead: Lead | None,
    kind: FollowUpKind,
    content: str,
    happened_at: datetime | None,
    result: str,
    next_step: str,
    next_step_on: date | None,
    contacts: Iterable[Contact],
    task: Task | None,
    allow_inactive_kind: bool,
) -> FollowUp:
    from tuoke.customers.services import Cause, advance_lifecycle

    _check_subject(customer, lead)
    if not allow_inactive_kind:
        _check_offered(kind)
    contacts = list(contacts)
    _check_contacts(contacts, customer)
    _check_task(task, customer, lead)
    happened_at = happened_at or timezone.now()
    _check_when(happened_at, next_step_on)
    follow_up = core_services.create_record(
        FollowUp,
        by=by,
        owner=by,
        customer=customer,
        lead=lead,
        kind=kind,
        happened_at=happened_at,
        content=_clean_text(content, "content", CONTENT_MAX, required=True),
        result=_clean_text(result, "result", 200),
        next_step=_clean_text(next_step, "next_step", 200),
        next_step_on=next_step_on,
    )
    if contacts:
        follow_up.contacts.set(contacts)
    if customer is not None:
        _touch_customer(customer, happened_at)
        advance_lifecycle(customer, to=LifecycleStatus.POTENTIAL, cause=Cause.FOLLOW_UP, by=by)
    # The tasks this follow-up does: his due ones there, the one it came from, and (when it
    # plans a new next step) his earlier next steps there, which it replaces.
    done = Q(due_on__lte=timezone.localdate())
    if next_step_on is not None:
        done |= Q(source=NEXT_STEP_SOURCE)
    open_tasks = Task.objects.select_for_update().filter(
        _subject_q(customer, lead), done, owner=by, done_at__isnull=True
    )
    finished = {t.pk: t for t in open_tasks}
    if task is not None and task.done_at is None:
        finished.setdefault(task.pk, task)
    for each in finished.values():
        _complete_task(each, by=by, follow_up=follow_up)
    _sync_next_step(follow_up, by=by)
    follow_up_logged.send(sender=FollowUp, follow_up=follow_up, by=by)
    return follow_up


def may_change(user: User, record: FollowUp | Visit) -> bool:
    """Only the author changes his record; a manager (approve) within his scope may too."""
    return record.owner_id == user.pk or can(user, record.record_type, Action.APPROVE)


def _check_author(record: FollowUp | Visit, by: User | None) -> None:
    if by is not None and not may_change(by, record):
        raise PermissionDenied(_("Only its author may change this."))


FOLLOW_UP_FIELDS = frozenset(
    {"kind", "happened_at", "content", "result", "next_step", "next_step_on"}
)


@transaction.atomic
def update_follow_up(
    follow_up: FollowUp,
    *,
    by: User | None,
    expected_version: int | None = None,
    contacts: Iterable[Contact] | None = None,
    **changes: Any,
) -> FollowUp:
    """Correct a follow-up (its author, or a manager); its next-step task follows it."""
    _check_author(follow_up, by)
    unknown = set(changes) - FOLLOW_UP_FIELDS
    if unknown:
        name = sorted(unknown)[0]
        raise _error(name, _("This field cannot be changed."), ErrorCode.INVALID)
    if "kind" in changes:
        changes["kind"] = kind_for(changes["kind"])
        _check_offered(changes["kind"], keep_id=follow_up.kind_id)
    if "content" in changes:
        changes["content"] = _clean_text(changes["content"], "content", CONTENT_MAX, required=True)
    for name in ("result", "next_step"):
        if name in changes:
            changes[name] = _clean_text(changes[name], name, 200)
    if changes.get("happened_at") is None:
        changes.pop("happened_at", None)
    _check_when(
        changes.get("happened_at", follow_up.happened_at),
        changes.get("next_step_on", follow_up.next_step_on),
    )
    if contacts is not None:
        contacts = list(contacts)
        _check_contacts(contacts, follow_up.customer)
    follow_up = core_services.update_record(
        follow_up, by=by, expected_version=expected_version, **changes
    )
    if contacts is not None:
        follow_up.contacts.set(contacts)
    if follow_up.customer is not None:
        _touch_customer(follow_up.customer, follow_up.happened_at)
    _sync_next_step(follow_up, by=by)
    return follow_up


@transaction.atomic
def delete_follow_up(follow_up: FollowUp, *, by: User | None) -> None:
    """Move a follow-up to the recycle bin with its open next-step task."""
    _check_author(follow_up, by)
    core_services.soft_delete(follow_up, by=by)
    _sync_next_step(follow_up, by=by)


# --- Visits -------------------------------------------------------------------------------------


@transaction.atomic
def plan_visit(
    *,
    by: User,
    customer: Customer,
    planned_at: datetime | None,
    purpose: str = "",
    contacts: Iterable[Contact] = (),
    owner: User | None = None,
) -> Visit:
    """A visit to a customer, planned for a time (its owner, the rep who goes, checks in)."""
    if planned_at is None:
        raise _error("planned_at", _("Say when the visit takes place."), ErrorCode.REQUIRED)
    if timezone.is_naive(planned_at):
        raise _error("planned_at", _("Give the time with its time zone."), ErrorCode.INVALID)
    contacts = list(contacts)
    _check_contacts(contacts, customer)
    visit = core_services.create_record(
        Visit,
        by=by,
        owner=owner or by,
        customer=customer,
        planned_at=planned_at,
        purpose=_clean_text(purpose, "purpose", 200),
    )
    if contacts:
        visit.contacts.set(contacts)
    return visit


def _locked(visit: Visit) -> Visit:
    # Read again under a lock: a double tap on "Check in" must not check in twice.
    current = Visit.all_objects.select_for_update().get(pk=visit.pk)
    visit.status, visit.checked_in_at, visit.version = (
        current.status,
        current.checked_in_at,
        current.version,
    )
    return visit


def _check_open(visit: Visit) -> None:
    if visit.status != Visit.Status.PLANNED or visit.deleted_at is not None:
        raise _error(
            "status",
            _("This visit is %(status)s already.") % {"status": visit.get_status_display()},
            ActivityError.VISIT_CLOSED,
        )


def _coordinate(value: Any, field: str, limit: int) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise _error(field, _("Enter a number."), ErrorCode.INVALID) from exc
    if not number.is_finite() or abs(number) > limit:
        raise _error(
            field,
            _("Ensure this value is between -%(limit)s and %(limit)s.") % {"limit": limit},
            ErrorCode.INVALID,
        )
    return number.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


@transaction.atomic
def check_in(
    visit: Visit,
    latitude: Any = None,
    longitude: Any = None,
    accuracy_m: Any = None,
    address: str = "",
    *,
    by: User | None = None,
) -> Visit:
    """Record that the rep arrived: now, and where if his browser told (a visit is checked
    in once; without a place when the browser would not say)."""
    visit = _locked(visit)
    if by is not None and visit.owner_id != by.pk:
        raise _error(
            "checked_in_at",
            _("Only the rep who makes the visit checks in."),
            ActivityError.NOT_YOURS,
        )
    _check_open(visit)
    if visit.checked_in_at is not None:
        raise _error(
            "checked_in_at",
            _("Checked in already at %(time)s.")
            % {"time": timezone.localtime(visit.checked_in_at).strftime("%Y-%m-%d %H:%M")},
            ActivityError.ALREADY_CHECKED_IN,
        )
    lat = _coordinate(latitude, "latitude", 90)
    lon = _coordinate(longitude, "longitude", 180)
    if (lat is None) != (lon is None):
        raise _error("longitude", _("Give both latitude and longitude."), ErrorCode.INVALID)
    accuracy = None
    if accuracy_m not in (None, "") and lat is not None:
        try:
            accuracy = min(max(round(float(accuracy_m)), 0), 2**31 - 1)
        except (TypeError, ValueError, OverflowError) as exc:
            raise _error("accuracy_m", _("Enter a number."), ErrorCode.INVALID) from exc
    return core_services.update_record(
        visit,
        by=by,
        checked_in_at=timezone.now(),
        latitude=lat,
        longitude=lon,
        accuracy_m=accuracy,
        address=_clean_text(address, "address", 300),
    )


def visit_kind() -> FollowUpKind:
    """The kind of a visit's follow-up: the built-in "visit", even if no longer offered."""
    found = FollowUpKind.objects.filter(key="visit").first()
    return found or kind_for(None)


@transaction.atomic
def complete_visit(
    visit: Visit,
    content: str,
    result: str = "",
    next_step: str = "",
    next_step_on: date | None = None,
    *,
    by: User | None = None,
    contacts: Iterable[Contact] | None = None,
) -> Visit:
    """The visit is done: its follow-up (kind "visit", at the check-in time) is logged by the
    rep through ``log_follow_up`` and linked to it."""
    visit = _locked(visit)
    author = by or visit.owner
    if visit.owner_id != author.pk:
        raise _error(
            "status", _("Only the rep who makes the visit completes it."), ActivityError.NOT_YOURS
        )
    _check_open(visit)
    chosen = list(visit.contacts.all()) if contacts is None else list(contacts)
    follow_up = _log(
        by=author,
        customer=visit.customer,
        lead=None,
        kind=visit_kind(),
        content=content,
        happened_at=visit.checked_in_at or timezone.now(),
        result=result,
        next_step=next_step,
        next_step_on=next_step_on,
        contacts=chosen,
        task=None,
        allow_inactive_kind=True,
    )
    return core_services.update_record(
        visit, by=author, status=Visit.Status.DONE, follow_up=follow_up
    )


@transaction.atomic
def cancel_visit(visit: Visit, *, by: User | None, reason: str = "") -> Visit:
    """Call a planned visit off (its author or a manager); the reason goes to the trail."""
    _check_author(visit, by)
    visit = _locked(visit)
    _check_open(visit)
    visit = core_services.update_record(visit, by=by, status=Visit.Status.CANCELLED)
    reason = (reason or "").strip()
    if reason:
        from tuoke.core import audit
        from tuoke.core.models import AuditEntry

        audit.record(visit, kind=AuditEntry.Kind.UPDATE, actor=by, note=reason[:500])
    return visit


# --- Comments and mentions ----------------------------------------------------------------------

# Characters that continue a Latin username or name: "@li" does not mention "@lin".
_WORD_CHAR = re.compile(r"[A-Za-z0-9_.\-]")
MENTIONABLE_LIMIT = 500


def mentionable(user: User) -> models.QuerySet[User]:
    """The colleagues ``user`` may mention: the active people he may see."""
    from tuoke.org.models import User as Person

    return Person.objects.visible_to(user).filter(is_active=True).order_by("username")


def _names_of(person: User) -> list[str]:
    names = [person.username]
    if person.display_name.strip():
        names.append(person.display_name.strip())
    return names


def mention_spans(body: str, people: Iterable[User]) -> list[tuple[int, int, User]]:
    """Where ``body`` mentions one of ``people``: (start of "@", end, person). "@" followed by
    a display name or username, in any case; the longest name wins (张伟 before 张), and a
    Latin name must end there ("@li" is not "@lin")."""
    names = sorted(
        ((name, person) for person in people for name in _names_of(person)),
        key=lambda item: -len(item[0]),
    )
    spans: list[tuple[int, int, User]] = []
    at = body.find("@")
    while at != -1:
        end = at + 1
        for name, person in names:
            after = at + 1 + len(name)
            if body[at + 1 : after].lower() != name.lower():
                continue
            if _WORD_CHAR.match(name[-1]) and after < len(body) and _WORD_CHAR.match(body[after]):
                continue
            spans.append((at, after, person))
            end = after
            break
        at = body.find("@", end)
    return spans


def subject_url(customer: Customer | None, lead: Lead | None) -> str:
    """The page of the customer or lead a follow-up or comment is about."""
    if customer is not None:
        return reverse("customers:customer_detail", args=[customer.pk])
    assert lead is not None
    return reverse("leads:lead_detail", args=[lead.pk])


def _sees(person: User, subject: Customer | Lead) -> bool:
    return type(subject).objects.visible_to(person).filter(pk=subject.pk).exists()


def _blind_mention(subject: Customer | Lead, person: User, *, by: User) -> tuple[str, str]:
    """The title and link of a mention for a colleague who cannot open the record: who
    mentioned him and whom to ask, never the comment nor the record (for a customer, the
    link asks its owner for access, as the duplicate check does)."""
    if isinstance(subject, Customer):
        from tuoke.customers.services import access_token

        title = _(
            "%(author)s mentioned you on a customer you cannot open. "
            "You may ask its owner, %(owner)s, for access."
        )
        url = (
            reverse("customers:access_request_create")
            + "?"
            + urlencode({"token": access_token(person, subject)})
        )
    else:
        title = _(
            "%(author)s mentioned you on a lead you cannot open. "
            "You may ask its owner, %(owner)s, for access."
        )
        url = ""
    return title % {"author": by, "owner": subject.owner}, url


def _notify_mentioned(comment: Comment, mentioned: list[User], *, by: User) -> None:
    """Those who may open the record read the comment and follow the link to it; the others
    (the author may see them, not they the record) only learn who mentioned them and whom
    to ask for access: the bell, e-mail and robots send what the notification holds."""
    from tuoke.core.notifications import notify

    subject = comment.customer or comment.lead
    assert subject is not None
    url = subject_url(comment.customer, comment.lead) + "#comments"
    # Each recipient reads the title in his own language.
    by_language: dict[str, list[User]] = {}
    for person in mentioned:
        language = person.language or settings.LANGUAGE_CODE
        if not _sees(person, subject):
            with translation.override(language):
                title, link = _blind_mention(subject, person, by=by)
                notify([person], kind="mention", title=title, url=link, actor=by)
            continue
        by_language.setdefault(language, []).append(person)
    for language, recipients in by_language.items():
        with translation.override(language):
            notify(
                recipients,
                kind="mention",
                title=_("%(author)s mentioned you on %(record)s")
                % {"author": by, "record": subject},
                body=comment.body[:500],
                url=url,
                actor=by,
            )


@transaction.atomic
def add_comment(
    *, by: User, customer: Customer | None = None, lead: Lead | None = None, body: str
) -> Comment:
    """A comment on a customer or lead; the colleagues it @mentions (among those the author
    may see) are kept with it and notified (without the comment if they cannot open the
    record)."""
    _check_subject(customer, lead)
    body = _clean_text(body, "body", CONTENT_MAX, required=True)
    comment = core_services.create_record(
        Comment, by=by, author=by, customer=customer, lead=lead, body=body
    )
    mentioned: list[User] = []
    if "@" in body:
        people = list(mentionable(by).exclude(pk=by.pk)[:MENTIONABLE_LIMIT])
        seen: set[int] = set()
        for _start, _end, person in mention_spans(body, people):
            if person.pk not in seen:
                seen.add(person.pk)
                mentioned.append(person)
    if mentioned:
        comment.mentions.set(mentioned)
        _notify_mentioned(comment, mentioned, by=by)
    return comment


def may_delete_comment(user: User, comment: Comment) -> bool:
    """A comment is deleted by its author only."""
    return comment.author_id == user.pk


@transaction.atomic
def delete_comment(comment: Comment, *, by: User | None) -> None:
    """Move a comment to the recycle bin (its author)."""
    if by is not None and not may_delete_comment(by, comment):
        raise PermissionDenied(_("Only its author may delete a comment."))
    core_services.soft_delete(comment, by=by)
