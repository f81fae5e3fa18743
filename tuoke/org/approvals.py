"""The approval engine (F24): record types register as approval *targets*; administrators
define *flows* per target (conditions on the record's facts, ordered steps whose approvers come
from the org chart); a record is *submitted*, the approvers of each step *approve* in turn
(any one of them, or all of them), and anyone of the current step may *reject* it or *return*
it for changes; the submitter may *withdraw* it while it is pending.

A request copies its flow's steps with the approvers resolved when it was submitted, so editing
or deleting a flow never changes requests under way. The target's callbacks (``on_approved`` …)
run in the same transaction as the decision; notifications are sent once it commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Exists, F, OuterRef, Prefetch, QuerySet
from django.dispatch import Signal
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from tuoke.core import audit
from tuoke.core import services as core_services
from tuoke.core.errors import Conflict, ErrorCode, field_error
from tuoke.core.models import Action, AuditEntry
from tuoke.core.scope import get_for, require
from tuoke.core.timeline import url_or_blank

from .models import (
    ApprovalAction,
    ApprovalFlow,
    ApprovalMode,
    ApprovalRequest,
    ApprovalRequestStep,
    ApprovalStatus,
    ApprovalStep,
    ApproverKind,
    OrgUnit,
    Role,
    User,
)

if TYPE_CHECKING:
    from tuoke.core.models import TrackedModel as Model


class ApprovalError(StrEnum):
    """Error codes of the approval engine, beside the common ``ErrorCode``."""

    PENDING = "pending"  # the record has a request pending already
    NOT_PENDING = "not_pending"  # the request was decided (or withdrawn) already
    NOT_YOUR_STEP = "not_your_step"  # the user is not an approver of the current step
    ALREADY_DECIDED = "already_decided"  # he approved this step already
    NOT_SUBMITTER = "not_submitter"  # only the submitter withdraws
    NO_APPROVER = "no_approver"  # a step of the flow resolves to nobody
    NO_STEPS = "no_steps"
    UNKNOWN_TARGET = "unknown_target"


class ApprovalDenied(PermissionDenied):
    """A decision the user may not take on a request he can see (HTTP 403 with ``code``)."""

    def __init__(self, message: Any, code: ApprovalError) -> None:
        super().__init__(str(message))
        self.code = code


def _error(field_name: str, message: Any, code: ApprovalError | ErrorCode) -> ValidationError:
    return field_error(field_name, message, cast(ErrorCode, code))


approval_decided = Signal()
"""Sent when a request is finally approved, rejected, returned or withdrawn, with ``request``
and ``by``; inside the transaction (receivers defer side effects with ``on_commit``)."""

TITLE_MAX = 200
COMMENT_MAX = 2000
NAME_MAX = 60
DESCRIPTION_MAX = 300
STEP = 10

# --- Targets -----------------------------------------------------------------------------------

FACT_KINDS = ("money", "percent", "boolean", "text")


@dataclass(frozen=True)
class Fact:
    """Something a flow's conditions may test on a record: ``kind`` says how (money and
    percent compare as numbers, boolean is true or false, text is equal or not)."""

    key: str
    label: str | Promise
    kind: str  # "money" | "percent" | "boolean" | "text"


def _nothing(record: Any, request: ApprovalRequest, by: User | None) -> None:
    return None


@dataclass(frozen=True)
class Target:
    """A record type that goes through approval, registered by its app (contracts in
    ``tuoke.contracts.hooks``).

    ``facts_of`` gives the values the conditions test (money in the reporting currency);
    ``describe`` the (title, amount, currency) a request copies for the queue; ``load`` finds
    the record by id, deleted ones included; the ``on_…`` callbacks move the record when a
    request is decided, in the same transaction.
    """

    record_type: str
    label: str | Promise
    facts: tuple[Fact, ...]
    facts_of: Callable[[Any], dict[str, Any]]
    describe: Callable[[Any], tuple[str, Decimal | None, str]]
    url_of: Callable[[Any], str]
    load: Callable[[int], Any]
    on_approved: Callable[[Any, ApprovalRequest, User | None], None] = _nothing
    on_rejected: Callable[[Any, ApprovalRequest, User | None], None] = _nothing
    on_returned: Callable[[Any, ApprovalRequest, User | None], None] = _nothing
    on_withdrawn: Callable[[Any, ApprovalRequest, User | None], None] = _nothing
    facts_by_key: dict[str, Fact] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "facts_by_key", {f.key: f for f in self.facts})


_TARGETS: dict[str, Target] = {}


def register_target(target: Target) -> None:
    """Make a record type approvable (registering the same type again replaces it)."""
    _TARGETS[target.record_type] = target


def unregister_target(record_type: str) -> None:
    _TARGETS.pop(record_type, None)


def targets() -> dict[str, Target]:
    return dict(_TARGETS)


def target(record_type: str) -> Target:
    try:
        return _TARGETS[record_type]
    except KeyError:
        raise LookupError(f"No approval target is registered for {record_type!r}") from None


# --- Conditions --------------------------------------------------------------------------------

OPERATORS = {"gte", "gt", "lte", "lt", "eq", "ne", "is_true", "is_false"}
# How a condition reads: "Amount (reporting currency) at least 500000", "Foreign currency is yes".
OPERATOR_LABELS: dict[str, Promise] = {
    "gte": pgettext_lazy("approval condition", "at least"),
    "gt": pgettext_lazy("approval condition", "more than"),
    "lte": pgettext_lazy("approval condition", "at most"),
    "lt": pgettext_lazy("approval condition", "less than"),
    "eq": pgettext_lazy("approval condition", "equal to"),
    "ne": pgettext_lazy("approval condition", "not equal to"),
    "is_true": pgettext_lazy("approval condition", "is yes"),
    "is_false": pgettext_lazy("approval condition", "is no"),
}
_NUMBER_OPERATORS = ("gte", "gt", "lte", "lt", "eq", "ne")
OPERATORS_BY_KIND: dict[str, tuple[str, ...]] = {
    "money": _NUMBER_OPERATORS,
    "percent": _NUMBER_OPERATORS,
    "boolean": ("is_true", "is_false"),
    "text": ("eq", "ne"),
}
MONEY_LIMIT = Decimal("1e14")


def _number(value: Any, kind: str) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite():
        return None
    if kind == "percent" and not Decimal(0) <= number <= Decimal(100):
        return None
    if kind == "money" and abs(number) >= MONEY_LIMIT:
        return None
    return number


def check_conditions(target: Target, conditions: Iterable[dict] | None) -> list[dict]:
    """The conditions checked and normalised: ``[{"fact", "op", "value"}]`` with numbers as
    plain decimal strings, text stripped, and no value (None) for yes/no facts. Errors name
    ``conditions.N.fact`` / ``.op`` / ``.value``."""
    if conditions is None:
        return []
    if isinstance(conditions, (str, bytes, dict)) or not isinstance(conditions, Iterable):
        raise _error("conditions", _("Give a list of conditions."), ErrorCode.INVALID)
    cleaned: list[dict] = []
    for index, condition in enumerate(conditions):
        where = f"conditions.{index}"
        if not isinstance(condition, dict):
            raise _error(where, _("Give the condition as an object."), ErrorCode.INVALID)
        key = str(condition.get("fact") or "").strip()
        fact = target.facts_by_key.get(key)
        if not key:
            raise _error(f"{where}.fact", _("Choose what the condition tests."), ErrorCode.REQUIRED)
        if fact is None:
            raise _error(
                f"{where}.fact",
                _("“%(fact)s” is not something a condition on %(target)s can test.")
                % {"fact": key, "target": target.label},
                ErrorCode.INVALID,
            )
        op = str(condition.get("op") or "").strip()
        allowed = OPERATORS_BY_KIND[fact.kind]
        if op not in allowed:
            raise _error(
                f"{where}.op",
                _("Choose one of: %(operators)s.") % {"operators": ", ".join(allowed)},
                ErrorCode.REQUIRED if not op else ErrorCode.INVALID,
            )
        value: Any = condition.get("value")
        if fact.kind in ("money", "percent"):
            number = _number(value, fact.kind) if value not in (None, "") else None
            if number is None:
                message = (
                    _("Enter a percentage from 0 to 100.")
                    if fact.kind == "percent"
                    else _("Enter an amount of money.")
                )
                code = ErrorCode.REQUIRED if value in (None, "") else ErrorCode.INVALID
                raise _error(f"{where}.value", message, code)
            value = format(number.normalize(), "f")
        elif fact.kind == "boolean":
            value = None
        else:
            value = str(value if value is not None else "").strip()
            if not value:
                raise _error(
                    f"{where}.value", _("Enter the text to compare with."), ErrorCode.REQUIRED
                )
            if len(value) > 100:
                raise _error(
                    f"{where}.value",
                    _("Ensure this value has at most %(max)s characters.") % {"max": 100},
                    ErrorCode.INVALID,
                )
        cleaned.append({"fact": key, "op": op, "value": value})
    return cleaned


def _holds(condition: dict, target: Target, facts: dict[str, Any]) -> bool:
    """One condition on the record's facts. A condition on a fact the target no longer has,
    or on a fact the record lacks (no discount given), does not hold (except "is no")."""
    fact = target.facts_by_key.get(condition.get("fact", ""))
    op = condition.get("op")
    if fact is None or op not in OPERATORS_BY_KIND[fact.kind]:
        return False
    actual = facts.get(fact.key)
    if fact.kind == "boolean":
        return bool(actual) if op == "is_true" else not actual
    if actual is None:
        return False
    if fact.kind == "text":
        same = str(actual).strip().casefold() == str(condition.get("value", "")).casefold()
        return same if op == "eq" else not same
    wanted = _number(condition.get("value"), "money")
    try:
        actual = Decimal(str(actual))
    except InvalidOperation:
        return False
    if wanted is None:
        return False
    return {
        "gte": actual >= wanted,
        "gt": actual > wanted,
        "lte": actual <= wanted,
        "lt": actual < wanted,
        "eq": actual == wanted,
        "ne": actual != wanted,
    }[op]


def conditions_hold(target: Target, conditions: Sequence[dict], facts: dict[str, Any]) -> bool:
    return all(_holds(c, target, facts) for c in conditions or ())


def flow_for(record: Model) -> ApprovalFlow | None:
    """The first active flow of the record's type (in their order) whose conditions all hold
    for it; None when no flow applies (the record needs no approval)."""
    record_type = getattr(record, "record_type", "")
    the_target = _TARGETS.get(record_type)
    if the_target is None:
        return None
    flows = list(
        ApprovalFlow.objects.filter(target=record_type, active=True).order_by("sort_order", "pk")
    )
    if not flows:
        return None
    facts = the_target.facts_of(record)
    for flow in flows:
        if conditions_hold(the_target, flow.conditions, facts):
            return flow
    return None


# --- Approvers from the org chart --------------------------------------------------------------


def _manager_above(unit_id: int | None, *, skip: set[int]) -> User | None:
    """Walking up from the unit (itself first), the first active manager not in ``skip``.
    The unit is read afresh: the one cached on a user may predate a move in the chart."""
    if unit_id is None:
        return None
    path = OrgUnit.all_objects.filter(pk=unit_id).values_list("path", flat=True).first()
    if not path:
        return None
    parts = [p for p in path.split(".") if p]
    paths = [".".join(parts[: n + 1]) + "." for n in range(len(parts))]
    chain = sorted(
        OrgUnit.all_objects.filter(path__in=paths).select_related("manager"),
        key=lambda u: len(u.path),
        reverse=True,
    )
    for node in chain:
        manager = node.manager
        if manager is not None and manager.is_active and manager.pk not in skip:
            return manager
    return None


def resolve_approvers(
    step: ApprovalStep, *, submitter: User, previous_manager: User | None
) -> list[User]:
    """Who approves ``step`` of a request ``submitter`` makes now (never the submitter):

    - unit_manager: the manager of the submitter's unit, or walking up the parent units the
      first manager who is not the submitter;
    - next_manager: the manager above ``previous_manager`` (the one the previous manager step
      resolved: his unit's manager unless that is himself, else walking up), skipping the
      submitter; with no previous manager step, the manager above the submitter's unit manager;
    - role: every active person holding the role (a deleted role: nobody);
    - user: the named person if he is active.
    """
    kind = step.approver_kind
    if kind == ApproverKind.UNIT_MANAGER:
        found = _manager_above(submitter.unit_id, skip={submitter.pk})
        return [found] if found else []
    if kind == ApproverKind.NEXT_MANAGER:
        base = previous_manager or _manager_above(submitter.unit_id, skip={submitter.pk})
        if base is None:
            return []
        found = _manager_above(base.unit_id, skip={submitter.pk, base.pk})
        return [found] if found else []
    if kind == ApproverKind.ROLE:
        if step.role_id is None or Role.objects.filter(pk=step.role_id).count() == 0:
            return []
        return list(
            User.objects.filter(roles=step.role_id, is_active=True)
            .exclude(pk=submitter.pk)
            .order_by("username")
        )
    if kind == ApproverKind.USER:
        user = step.user if step.user_id else None
        if user is None or not user.is_active or user.pk == submitter.pk:
            return []
        return [user]
    return []


def _nobody_reason(step: ApprovalStep, *, submitter: User, previous_manager: User | None) -> str:
    kind = step.approver_kind
    if kind == ApproverKind.UNIT_MANAGER:
        return _("there is no manager above %(person)s in the org chart") % {"person": submitter}
    if kind == ApproverKind.NEXT_MANAGER:
        base = previous_manager or _manager_above(submitter.unit_id, skip={submitter.pk})
        if base is None:
            return _("there is no manager above %(person)s in the org chart") % {
                "person": submitter
            }
        return _("there is no manager above %(person)s in the org chart") % {"person": base}
    if kind == ApproverKind.ROLE:
        role = Role.all_objects.filter(pk=step.role_id).first() if step.role_id else None
        return _("no other active person holds the role “%(role)s”") % {"role": role or "—"}
    person = step.user if step.user_id else None
    return _("%(person)s is not active or submitted it himself") % {"person": person or "—"}


MANAGER_KINDS = (ApproverKind.UNIT_MANAGER, ApproverKind.NEXT_MANAGER)


def _resolve_steps(
    flow: ApprovalFlow, *, submitter: User
) -> tuple[list[tuple[ApprovalStep, list]], list[tuple[ApprovalStep, str]]]:
    """The flow's steps with their approvers, and the steps skipped: a manager step with no
    manager left above the submitter (a director submitting under "unit manager → next
    manager → finance" has nobody above him in sales) is skipped and kept in the history.
    A role or person step with nobody is a flaw of the flow and refuses the submission."""
    planned: list[tuple[ApprovalStep, list]] = []
    skipped: list[tuple[ApprovalStep, str]] = []
    previous_manager: User | None = None
    steps = list(flow.steps.select_related("role", "user").order_by("sort_order", "pk"))
    if not steps:
        raise _error(
            "flow",
            _("The approval flow “%(flow)s” has no steps.") % {"flow": flow.name},
            ApprovalError.NO_STEPS,
        )
    for step in steps:
        approvers = resolve_approvers(step, submitter=submitter, previous_manager=previous_manager)
        if not approvers:
            reason = _nobody_reason(step, submitter=submitter, previous_manager=previous_manager)
            if step.approver_kind in MANAGER_KINDS:
                skipped.append((step, reason))
                continue
            raise _error(
                "flow",
                _("No one can approve the step “%(step)s”: %(reason)s.")
                % {"step": step.name, "reason": reason},
                ApprovalError.NO_APPROVER,
            )
        if step.approver_kind in MANAGER_KINDS:
            previous_manager = approvers[0]
        planned.append((step, approvers))
    return planned, skipped


# --- Reading requests --------------------------------------------------------------------------


def _detailed(queryset: QuerySet[ApprovalRequest]) -> QuerySet[ApprovalRequest]:
    return queryset.select_related("owner", "flow").prefetch_related(
        Prefetch(
            "steps",
            queryset=ApprovalRequestStep.objects.prefetch_related(
                Prefetch("approvers", queryset=User.objects.order_by("username"))
            ).order_by("position"),
        ),
        Prefetch(
            "actions",
            queryset=ApprovalAction.objects.select_related("actor", "step").order_by("at", "pk"),
        ),
    )


def requests_of(user: User) -> QuerySet[ApprovalRequest]:
    """The requests the user may see: his own, his team's as a manager, those he approves."""
    return ApprovalRequest.objects.visible_to(user)


def get_request_for(user: User, pk: Any) -> ApprovalRequest:
    """One request the user may see, with its steps (approvers) and actions; else Http404."""
    return get_for(user, _detailed(ApprovalRequest.objects.all()), pk)


def queue(user: User) -> QuerySet[ApprovalRequest]:
    """What waits for the user's decision: pending requests whose current step names him and
    which he has not approved yet (an all-of step waits for the others), oldest first."""
    current = ApprovalRequestStep.objects.filter(
        request=OuterRef("pk"),
        position=OuterRef("current_step"),
        status=ApprovalRequestStep.Status.PENDING,
        approvers=user,
    )
    approved = ApprovalAction.objects.filter(
        request=OuterRef("pk"),
        step__position=OuterRef("current_step"),
        kind=ApprovalAction.Kind.APPROVE,
        actor=user,
    )
    return (
        ApprovalRequest.objects.filter(status=ApprovalStatus.PENDING)
        .filter(Exists(current))
        .exclude(Exists(approved))
        .order_by("submitted_at", "pk")
    )


def may_decide(user: User, request: ApprovalRequest) -> bool:
    """Whether the user may approve, reject or return the request now."""
    if request.status != ApprovalStatus.PENDING or not user.is_authenticated:
        return False
    return queue(user).filter(pk=request.pk).exists()


def may_withdraw(user: User, request: ApprovalRequest) -> bool:
    return request.status == ApprovalStatus.PENDING and request.owner_id == user.pk


def pending_request(record: Model) -> ApprovalRequest | None:
    """The record's request under way, if any (the record is read-only meanwhile)."""
    return (
        ApprovalRequest.objects.filter(
            target=record.record_type, object_id=record.pk, status=ApprovalStatus.PENDING
        )
        .select_related("owner")
        .first()
    )


def history(record: Model) -> list[ApprovalRequest]:
    """Every request of the record, newest first, with steps (approvers) and actions."""
    return list(
        _detailed(
            ApprovalRequest.objects.filter(target=record.record_type, object_id=record.pk)
        ).order_by("-submitted_at", "-pk")
    )


def record_of(request: ApprovalRequest) -> Any:
    """The record a request is about (deleted ones included), None when it is gone or its
    type is no longer registered."""
    the_target = _TARGETS.get(request.target)
    return the_target.load(request.object_id) if the_target else None


def record_url(request: ApprovalRequest, record: Any = None) -> str:
    the_target = _TARGETS.get(request.target)
    record = record if record is not None else record_of(request)
    return the_target.url_of(record) if the_target and record is not None else ""


def request_url(request: ApprovalRequest) -> str:
    return url_or_blank("approvals:request_detail", request.pk)


# --- Notifications -----------------------------------------------------------------------------


def _notify_later(
    recipients: Iterable[User], *, title: Callable[[], str], body: str, url: str, by: User | None
) -> None:
    """Each recipient reads the title in his own language, once the transaction commits."""
    from tuoke.core.notifications import notify

    people = list(recipients)

    def send() -> None:
        by_language: dict[str, list[User]] = {}
        for person in people:
            by_language.setdefault(person.language or settings.LANGUAGE_CODE, []).append(person)
        for language, group in by_language.items():
            with translation.override(language):
                notify(group, kind="approval", title=title(), body=body, url=url, actor=by)

    transaction.on_commit(send)


def _notify_approvers(request: ApprovalRequest, step: ApprovalRequestStep, by: User | None):
    title = request.title
    submitter = request.owner

    def text() -> str:
        return _("%(person)s asks for your approval: %(title)s") % {
            "person": submitter,
            "title": title,
        }

    body = f"{request.flow_name} · {step.name}"
    _notify_later(step.approvers.all(), title=text, body=body, url=request_url(request), by=by)


def _notify_submitter(request: ApprovalRequest, kind: str, comment: str, by: User | None):
    title = request.title
    texts: dict[str, Callable[[], str]] = {
        ApprovalStatus.APPROVED: lambda: _("Approved: %(title)s") % {"title": title},
        ApprovalStatus.REJECTED: lambda: _("Rejected: %(title)s") % {"title": title},
        ApprovalStatus.RETURNED: lambda: _("Returned for changes: %(title)s") % {"title": title},
    }
    _notify_later([request.owner], title=texts[kind], body=comment, url=request_url(request), by=by)


# --- Submitting and deciding -------------------------------------------------------------------


def _comment(value: Any, *, required: bool) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise _error("comment", _("Say why in a comment."), ErrorCode.REQUIRED)
    if len(text) > COMMENT_MAX:
        raise _error(
            "comment",
            _("Ensure this value has at most %(max)s characters.") % {"max": COMMENT_MAX},
            ErrorCode.INVALID,
        )
    return text


def _clip(text: Any, length: int) -> str:
    text = str(text or "")
    return text if len(text) <= length else text[: length - 1] + "…"


@transaction.atomic
def submit(record: Model, *, by: User, comment: str = "") -> ApprovalRequest | None:
    """Submit a record for approval under the first flow that applies to it; None when none
    does (the caller then goes on as if it were approved).

    The flow's steps are copied with their approvers resolved now (the submitter is never his
    own approver). A manager step with no manager above the submitter is skipped, and the
    history says so; when every step is skipped the request is approved at once and the
    caller goes on as approved (as with None; ``on_approved`` is not called). A role or
    person step that resolves to nobody is refused (field ``flow``, code ``no_approver``), as
    is a record with a request pending (code ``pending``). The first step's approvers are
    notified."""
    the_target = target(record.record_type)
    comment = _comment(comment, required=False)
    # Two submissions of one record at once: the second waits here and then finds the first.
    list(type(record)._base_manager.select_for_update().filter(pk=record.pk).values_list("pk"))
    if ApprovalRequest.objects.filter(
        target=the_target.record_type, object_id=record.pk, status=ApprovalStatus.PENDING
    ).exists():
        raise _error(
            "status",
            _("This record is pending approval already."),
            ApprovalError.PENDING,
        )
    flow = flow_for(record)
    if flow is None:
        return None
    planned, skipped = _resolve_steps(flow, submitter=by)
    title, amount, currency = the_target.describe(record)
    request = core_services.create_record(
        ApprovalRequest,
        by=by,
        owner=by,
        flow=flow,
        flow_name=flow.name,
        target=the_target.record_type,
        object_id=record.pk,
        title=_clip(title, TITLE_MAX),
        amount=amount,
        currency=currency or "",
        status=ApprovalStatus.PENDING,
        current_step=1,
        submitted_at=timezone.now(),
    )
    first: ApprovalRequestStep | None = None
    for position, (step, approvers) in enumerate(planned, start=1):
        copied = ApprovalRequestStep.objects.create(
            request=request,
            position=position,
            name=step.name,
            approver_kind=step.approver_kind,
            mode=step.mode,
            status=(
                ApprovalRequestStep.Status.PENDING
                if position == 1
                else ApprovalRequestStep.Status.WAITING
            ),
        )
        copied.approvers.set(approvers)
        first = first or copied
    ApprovalAction.objects.create(
        request=request, kind=ApprovalAction.Kind.SUBMIT, actor=by, comment=comment
    )
    ApprovalAction.objects.bulk_create(
        ApprovalAction(
            request=request,
            kind=ApprovalAction.Kind.SKIP,
            comment=_clip(_("%(step)s: %(reason)s.") % {"step": step.name, "reason": reason}, 2000),
        )
        for step, reason in skipped
    )
    if first is None:
        core_services.update_record(
            request,
            by=by,
            status=ApprovalStatus.APPROVED,
            current_step=None,
            decided_at=timezone.now(),
        )
        return request
    _notify_approvers(request, first, by)
    return request


def _locked(request: ApprovalRequest) -> ApprovalRequest:
    """The request re-read under a row lock (two decisions at once: the second waits, then
    sees the first); refused unless it is still pending."""
    current = (
        ApprovalRequest.all_objects.select_for_update().select_related("owner").get(pk=request.pk)
    )
    if current.status != ApprovalStatus.PENDING or current.deleted_at is not None:
        raise _error(
            "status",
            _("This request was decided already (%(status)s).")
            % {"status": current.get_status_display()},
            ApprovalError.NOT_PENDING,
        )
    return current


def _current_step(request: ApprovalRequest, by: User) -> ApprovalRequestStep:
    """The step waiting for a decision, if ``by`` is one of its approvers who has not
    approved it yet."""
    step = ApprovalRequestStep.objects.get(request=request, position=request.current_step or 0)
    if not step.approvers.filter(pk=by.pk).exists():
        decided_before = ApprovalRequestStep.objects.filter(
            request=request, position__lt=step.position, approvers=by
        ).exists()
        if decided_before:
            raise _error(
                "status",
                _("Your step of this request was decided already."),
                ApprovalError.ALREADY_DECIDED,
            )
        raise ApprovalDenied(
            _("This request is not waiting for your decision."), ApprovalError.NOT_YOUR_STEP
        )
    if ApprovalAction.objects.filter(
        step=step, actor=by, kind=ApprovalAction.Kind.APPROVE
    ).exists():
        raise _error("status", _("You approved this step already."), ApprovalError.ALREADY_DECIDED)
    return step


def _sync(original: ApprovalRequest, current: ApprovalRequest) -> ApprovalRequest:
    """The caller's instance brought up to date with what was written."""
    if original is not current:
        for f in ApprovalRequest._meta.concrete_fields:
            setattr(original, f.attname, getattr(current, f.attname))
    return original


def _close(
    request: ApprovalRequest,
    *,
    status: str,
    by: User | None,
    step_status: str | None,
    step: ApprovalRequestStep | None,
) -> None:
    """End the request: its current step marked, the steps after it cancelled."""
    now = timezone.now()
    if step is not None and step_status is not None:
        step.status = step_status
        step.decided_at = now
        step.save(update_fields=["status", "decided_at"])
    ApprovalRequestStep.objects.filter(
        request=request,
        status__in=(ApprovalRequestStep.Status.WAITING, ApprovalRequestStep.Status.PENDING),
    ).update(status=ApprovalRequestStep.Status.CANCELLED)
    core_services.update_record(request, by=by, status=status, current_step=None, decided_at=now)


def _callback(request: ApprovalRequest, name: str, by: User | None) -> None:
    the_target = _TARGETS.get(request.target)
    if the_target is None:
        return
    record = the_target.load(request.object_id)
    if record is not None:
        getattr(the_target, name)(record, request, by)


@transaction.atomic
def approve(request: ApprovalRequest, *, by: User, comment: str = "") -> ApprovalRequest:
    """Approve the current step: an any-of step is done, an all-of step once every active
    approver of it approved. The last step approves the request (``on_approved``, the
    submitter is told); otherwise the next step's approvers are asked."""
    comment = _comment(comment, required=False)
    current = _locked(request)
    step = _current_step(current, by)
    ApprovalAction.objects.create(
        request=current, step=step, kind=ApprovalAction.Kind.APPROVE, actor=by, comment=comment
    )
    if step.mode == ApprovalMode.ALL:
        approved = set(
            ApprovalAction.objects.filter(step=step, kind=ApprovalAction.Kind.APPROVE).values_list(
                "actor_id", flat=True
            )
        )
        waiting = step.approvers.filter(is_active=True).exclude(pk__in=approved)
        if waiting.exists():
            return _sync(request, current)
    now = timezone.now()
    following = (
        ApprovalRequestStep.objects.filter(request=current, position__gt=step.position)
        .order_by("position")
        .first()
    )
    if following is None:
        _close(
            current,
            status=ApprovalStatus.APPROVED,
            by=by,
            step_status=ApprovalRequestStep.Status.APPROVED,
            step=step,
        )
        _callback(current, "on_approved", by)
        approval_decided.send(sender=ApprovalRequest, request=current, by=by)
        _notify_submitter(current, ApprovalStatus.APPROVED, comment, by)
        return _sync(request, current)
    step.status, step.decided_at = ApprovalRequestStep.Status.APPROVED, now
    step.save(update_fields=["status", "decided_at"])
    following.status = ApprovalRequestStep.Status.PENDING
    following.save(update_fields=["status"])
    core_services.update_record(current, by=by, current_step=following.position)
    _notify_approvers(current, following, by)
    return _sync(request, current)


def _refuse(
    request: ApprovalRequest, *, by: User, comment: str, status: str, callback: str
) -> ApprovalRequest:
    comment = _comment(comment, required=True)
    current = _locked(request)
    step = _current_step(current, by)
    kind = (
        ApprovalAction.Kind.REJECT
        if status == ApprovalStatus.REJECTED
        else ApprovalAction.Kind.RETURN
    )
    ApprovalAction.objects.create(request=current, step=step, kind=kind, actor=by, comment=comment)
    step_status = (
        ApprovalRequestStep.Status.REJECTED
        if status == ApprovalStatus.REJECTED
        else ApprovalRequestStep.Status.RETURNED
    )
    _close(current, status=status, by=by, step_status=step_status, step=step)
    _callback(current, callback, by)
    approval_decided.send(sender=ApprovalRequest, request=current, by=by)
    _notify_submitter(current, status, comment, by)
    return _sync(request, current)


@transaction.atomic
def reject(request: ApprovalRequest, *, by: User, comment: str) -> ApprovalRequest:
    """Reject the request at the current step (a comment is required): ``on_rejected``, the
    submitter is told."""
    return _refuse(
        request, by=by, comment=comment, status=ApprovalStatus.REJECTED, callback="on_rejected"
    )


@transaction.atomic
def return_for_changes(request: ApprovalRequest, *, by: User, comment: str) -> ApprovalRequest:
    """Send the request back to the submitter for changes (a comment is required):
    ``on_returned``; he may change the record and submit it again (a new request)."""
    return _refuse(
        request, by=by, comment=comment, status=ApprovalStatus.RETURNED, callback="on_returned"
    )


@transaction.atomic
def withdraw(request: ApprovalRequest, *, by: User, comment: str = "") -> ApprovalRequest:
    """The submitter takes his pending request back: ``on_withdrawn``."""
    comment = _comment(comment, required=False)
    current = _locked(request)
    if current.owner_id != by.pk:
        raise ApprovalDenied(
            _("Only the person who submitted it may withdraw it."), ApprovalError.NOT_SUBMITTER
        )
    ApprovalAction.objects.create(
        request=current, kind=ApprovalAction.Kind.WITHDRAW, actor=by, comment=comment
    )
    _close(current, status=ApprovalStatus.WITHDRAWN, by=by, step_status=None, step=None)
    _callback(current, "on_withdrawn", by)
    approval_decided.send(sender=ApprovalRequest, request=current, by=by)
    return _sync(request, current)


# --- Flow configuration (administrators) -------------------------------------------------------


def _check_administer(by: User | None) -> None:
    if by is not None:
        require(by, ApprovalFlow.record_type, Action.ADMINISTER)


def _text(value: Any, field_name: str, limit: int, *, required_message: Any = None) -> str:
    text = str(value or "").strip()
    if required_message is not None and not text:
        raise _error(field_name, required_message, ErrorCode.REQUIRED)
    if len(text) > limit:
        raise _error(
            field_name,
            _("Ensure this value has at most %(max)s characters.") % {"max": limit},
            ErrorCode.INVALID,
        )
    return text


def _target_of(value: Any) -> Target:
    key = str(value or "").strip()
    if not key:
        raise _error("target", _("Choose what the flow approves."), ErrorCode.REQUIRED)
    if key not in _TARGETS:
        raise _error(
            "target",
            _("“%(target)s” is not a record type that can be approved.") % {"target": key},
            ApprovalError.UNKNOWN_TARGET,
        )
    return _TARGETS[key]


def _pick(model: type[models.Model], value: Any, where: str, message: Any) -> Any:
    if isinstance(value, model):
        found = model._default_manager.filter(pk=value.pk).first()
    elif value in (None, ""):
        found = None
    else:
        try:
            found = model._default_manager.filter(pk=int(value)).first()
        except (TypeError, ValueError):
            found = None
        if found is None:
            raise _error(
                where,
                _("Select a valid choice. That choice is not one of the available choices."),
                ErrorCode.INVALID,
            )
    if found is None:
        raise _error(where, message, ErrorCode.REQUIRED)
    return found


def _check_steps(steps: Iterable[dict] | None) -> list[dict[str, Any]]:
    if isinstance(steps, (str, bytes, dict)) or steps is None:
        steps = []
    cleaned: list[dict[str, Any]] = []
    for index, given in enumerate(steps):
        where = f"steps.{index}"
        if not isinstance(given, dict):
            raise _error(where, _("Give the step as an object."), ErrorCode.INVALID)
        name = _text(
            given.get("name"),
            f"{where}.name",
            NAME_MAX,
            required_message=_("Give the step a name."),
        )
        kind = str(given.get("approver_kind") or "").strip()
        if kind not in ApproverKind.values:
            raise _error(
                f"{where}.approver_kind",
                _("Choose who approves this step."),
                ErrorCode.REQUIRED if not kind else ErrorCode.INVALID,
            )
        mode = str(given.get("mode") or ApprovalMode.ANY).strip()
        if mode not in ApprovalMode.values:
            raise _error(
                f"{where}.mode",
                _("Choose whether any one or all of the approvers must approve."),
                ErrorCode.INVALID,
            )
        role = user = None
        if kind == ApproverKind.ROLE:
            role = _pick(Role, given.get("role"), f"{where}.role", _("Choose the role."))
        if kind == ApproverKind.USER:
            user = _pick(User, given.get("user"), f"{where}.user", _("Choose the person."))
            if not user.is_active:
                raise _error(
                    f"{where}.user",
                    _("%(person)s is not active.") % {"person": user},
                    ErrorCode.INVALID,
                )
        cleaned.append(
            {"name": name, "approver_kind": kind, "mode": mode, "role": role, "user": user}
        )
    if not cleaned:
        raise _error("steps", _("A flow needs at least one step."), ApprovalError.NO_STEPS)
    return cleaned


def _steps_text(steps: Iterable[Any]) -> str:
    """One line per step for the audit trail: "1. 部门经理审批 (Submitter's unit manager, any)"."""
    lines = []
    for position, step in enumerate(steps, start=1):
        get = step.get if isinstance(step, dict) else lambda k, s=step: getattr(s, k)
        who = str(ApproverKind(str(get("approver_kind"))).label)
        if get("role") is not None:
            who = f"{who}: {get('role')}"
        if get("user") is not None:
            who = f"{who}: {get('user')}"
        mode = str(ApprovalMode(str(get("mode"))).label)
        lines.append(f"{position}. {get('name')} ({who}; {mode})")
    return "\n".join(lines)


def _write_steps(flow: ApprovalFlow, steps: list[dict[str, Any]]) -> None:
    flow.steps.all().delete()
    ApprovalStep.objects.bulk_create(
        ApprovalStep(flow=flow, sort_order=(position + 1) * STEP, **step)
        for position, step in enumerate(steps)
    )


def _next_order(target_key: str) -> int:
    last = ApprovalFlow.objects.filter(target=target_key).aggregate(m=models.Max("sort_order"))["m"]
    return (last or 0) + STEP


def _sort_order(value: Any) -> int:
    try:
        number = int(value)
        exact = Decimal(str(value)) == number
    except (TypeError, ValueError, InvalidOperation):
        exact = False
    if not exact or not -(2**31) <= number < 2**31:
        raise _error("sort_order", _("Enter a whole number."), ErrorCode.INVALID)
    return number


@transaction.atomic
def create_flow(
    *,
    name: str,
    target: str,
    by: User | None,
    conditions: Iterable[dict] = (),
    steps: Iterable[dict] = (),
    description: str = "",
    sort_order: int | None = None,
    active: bool = True,
) -> ApprovalFlow:
    """A new flow for a registered target, after the target's other flows unless
    ``sort_order`` is given. ``steps``: ``[{"name", "approver_kind", "role" (Role or id),
    "user" (User or id), "mode"}]``, at least one."""
    _check_administer(by)
    name = _text(name, "name", NAME_MAX, required_message=_("Give the flow a name."))
    the_target = _target_of(target)
    cleaned_conditions = check_conditions(the_target, conditions)
    cleaned_steps = _check_steps(steps)
    description = _text(description, "description", DESCRIPTION_MAX)
    order = _next_order(the_target.record_type) if sort_order is None else _sort_order(sort_order)
    flow = core_services.create_record(
        ApprovalFlow,
        by=by,
        name=name,
        target=the_target.record_type,
        description=description,
        conditions=cleaned_conditions,
        sort_order=order,
        active=bool(active),
    )
    _write_steps(flow, cleaned_steps)
    audit.record(
        flow,
        kind=AuditEntry.Kind.UPDATE,
        actor=by,
        changes=[
            {"field": "steps", "label": _("steps"), "old": "", "new": _steps_text(cleaned_steps)}
        ],
    )
    return flow


FLOW_FACTS = ("name", "target", "description", "conditions", "sort_order", "active", "steps")


@transaction.atomic
def update_flow(
    flow: ApprovalFlow, *, by: User | None, version: int | None = None, **facts: Any
) -> ApprovalFlow:
    """Change a flow's facts; ``steps`` given replace all its steps. Requests already
    submitted keep the steps they were submitted under."""
    _check_administer(by)
    unknown = set(facts) - set(FLOW_FACTS)
    if unknown:
        raise _error(sorted(unknown)[0], _("This field is not known."), ErrorCode.INVALID)
    if version is not None and version != flow.version:
        raise Conflict()
    changes: dict[str, Any] = {}
    if "name" in facts:
        changes["name"] = _text(
            facts["name"], "name", NAME_MAX, required_message=_("Give the flow a name.")
        )
    the_target = _target_of(facts["target"]) if "target" in facts else _TARGETS.get(flow.target)
    if "target" in facts:
        changes["target"] = the_target.record_type  # type: ignore[union-attr]
    if "conditions" in facts or "target" in facts:
        if the_target is None:
            raise _error("target", _("Choose what the flow approves."), ErrorCode.REQUIRED)
        changes["conditions"] = check_conditions(
            the_target, facts.get("conditions", flow.conditions)
        )
    if "description" in facts:
        changes["description"] = _text(facts["description"], "description", DESCRIPTION_MAX)
    if "sort_order" in facts:
        changes["sort_order"] = _sort_order(facts["sort_order"])
    if "active" in facts:
        changes["active"] = bool(facts["active"])
    new_steps = _check_steps(facts["steps"]) if facts.get("steps") is not None else None
    old_steps_text = _steps_text(flow.steps.select_related("role", "user")) if new_steps else ""
    before = flow.version
    core_services.update_record(flow, by=by, expected_version=version, **changes)
    if new_steps is not None:
        new_text = _steps_text(new_steps)
        if new_text != old_steps_text:
            _write_steps(flow, new_steps)
            if flow.version == before:
                # Only the steps changed: the version still moves, so a stale edit is caught.
                updated = ApprovalFlow.all_objects.filter(pk=flow.pk, version=before).update(
                    version=F("version") + 1, updated_by=by, updated_at=timezone.now()
                )
                if not updated:
                    raise Conflict()
                flow.version = before + 1
            audit.record(
                flow,
                kind=AuditEntry.Kind.UPDATE,
                actor=by,
                changes=[
                    {
                        "field": "steps",
                        "label": _("steps"),
                        "old": old_steps_text,
                        "new": new_text,
                    }
                ],
            )
    return flow


@transaction.atomic
def move_flow(flow: ApprovalFlow, *, up: bool, by: User | None) -> None:
    """Try the flow one place earlier (``up``) or later among its target's flows."""
    _check_administer(by)
    flows = list(ApprovalFlow.objects.filter(target=flow.target).order_by("sort_order", "pk"))
    index = next((i for i, f in enumerate(flows) if f.pk == flow.pk), None)
    if index is None:
        return
    other = index - 1 if up else index + 1
    if not 0 <= other < len(flows):
        return
    flows[index], flows[other] = flows[other], flows[index]
    for position, each in enumerate(flows):
        wanted = (position + 1) * STEP
        if each.sort_order != wanted:
            core_services.update_record(each, by=by, sort_order=wanted)
            if each.pk == flow.pk:
                flow.sort_order, flow.version = each.sort_order, each.version


@transaction.atomic
def delete_flow(flow: ApprovalFlow, *, by: User | None) -> None:
    """Move the flow to the recycle bin; requests submitted under it go on unchanged."""
    _check_administer(by)
    core_services.soft_delete(flow, by=by)


@transaction.atomic
def restore_flow(flow: ApprovalFlow, *, by: User | None) -> None:
    _check_administer(by)
    core_services.restore(flow, by=by)
