"""Handover: when someone leaves or changes team, what he owns goes to a colleague in one
audited step, with a reason.

Each app registers the kinds of records it hands over (customers, leads, later open
opportunities and tasks) in its ``AppConfig.ready``; this module knows none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from tuoke.core import audit
from tuoke.core.errors import ErrorCode, field_error
from tuoke.core.models import Action, AuditEntry
from tuoke.core.scope import can, scope_queryset

if TYPE_CHECKING:
    from tuoke.org.models import User


@dataclass(frozen=True)
class Kind:
    """One kind of record a person hands over."""

    key: str
    label: str | Promise
    # Handing over needs ``approve`` on this record type (a manager's action).
    record_type: str
    # The records ``person`` owns that go with the handover (alive, open ones only).
    owned_by: Callable[[User], QuerySet]
    # Moves the given records to ``to``; audited by the app; returns how many moved.
    transfer: Callable[..., int]
    order: int = 100


_kinds: dict[str, Kind] = {}


def register(kind: Kind) -> None:
    _kinds[kind.key] = kind


def kinds() -> list[Kind]:
    return sorted(_kinds.values(), key=lambda k: k.order)


def may_hand_over(by: User) -> bool:
    return any(can(by, kind.record_type, Action.APPROVE) for kind in kinds())


@dataclass
class Holding:
    kind: Kind
    count: int  # what the person owns
    allowed: int  # how many of them ``by`` may edit


def holdings(person: User, *, by: User) -> list[Holding]:
    """What ``person`` owns, kind by kind, and how much of it ``by`` may hand over."""
    result = []
    for kind in kinds():
        owned = kind.owned_by(person)
        count = owned.count()
        allowed = scope_queryset(owned, by, Action.EDIT).count() if count else 0
        result.append(Holding(kind=kind, count=count, allowed=allowed))
    return result


@transaction.atomic
def hand_over(person: User, *, to: User | None, reason: str, by: User) -> dict[str, int]:
    """Give everything ``person`` owns to ``to``; all or nothing.

    ``by`` must be allowed to change every record that moves: a handover that would leave
    part of a leaver's customers behind is refused rather than done by halves.
    """
    if to is None:
        raise field_error("to", _("Choose who takes over."), ErrorCode.REQUIRED)
    if to.pk == person.pk:
        raise field_error(
            "to", _("Choose someone else than the person handing over."), ErrorCode.INVALID
        )
    if not to.is_active:
        raise field_error("to", _("Choose an active user."), ErrorCode.INVALID)
    reason = (reason or "").strip()
    if not reason:
        raise field_error("reason", _("Say why the records are handed over."), ErrorCode.REQUIRED)
    moved: dict[str, int] = {}
    for holding in holdings(person, by=by):
        if holding.count == 0:
            continue
        if holding.allowed < holding.count:
            raise PermissionDenied(
                _("You may not hand over %(count)s of his %(kind)s.")
                % {"count": holding.count - holding.allowed, "kind": holding.kind.label}
            )
        records = list(holding.kind.owned_by(person).select_for_update())
        moved[holding.kind.key] = holding.kind.transfer(records, to=to, reason=reason, by=by)
    summary = describe(moved) or "-"
    audit.record(
        person,
        kind=AuditEntry.Kind.UPDATE,
        actor=by,
        note=_("Handed over to %(to)s (%(summary)s): %(reason)s")
        % {"to": to, "summary": summary, "reason": reason},
    )
    return moved


def describe(moved: dict[str, Any]) -> str:
    """A line for messages: "客户: 12, 线索: 3"."""
    return ", ".join(f"{_kinds[key].label}: {count}" for key, count in moved.items() if count)
