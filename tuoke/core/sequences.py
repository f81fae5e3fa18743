"""Numbering sequences (contract numbers …): a pattern such as ``HT{yyyy}{mm}-{seq:04}`` whose
counter restarts every year, every month or never. ``next_value`` locks the sequence's row, so
two numbers drawn at once are never equal."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit
from .errors import ErrorCode, field_error
from .models import AuditEntry, Sequence

if TYPE_CHECKING:
    from tuoke.org.models import User

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
SEQ = re.compile(r"^seq(?::0([1-9]))?$")
DATE_PARTS = ("yyyy", "yy", "mm", "dd")
RENDERED_MAX = 40
# The largest counter a preview is checked with: a pattern must hold a million numbers.
CHECKED_VALUE = 999_999


def period_of(reset: str, day: date) -> str:
    """The period a counter runs in: "2026" (yearly), "202605" (monthly) or "" (never)."""
    if reset == Sequence.Reset.YEARLY:
        return f"{day:%Y}"
    if reset == Sequence.Reset.MONTHLY:
        return f"{day:%Y%m}"
    return ""


def render(pattern: str, *, on: date, value: int) -> str:
    """The number ``pattern`` gives for the counter ``value`` on the day ``on``."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "yyyy":
            return f"{on:%Y}"
        if name == "yy":
            return f"{on:%y}"
        if name == "mm":
            return f"{on:%m}"
        if name == "dd":
            return f"{on:%d}"
        seq = SEQ.match(name)
        if seq is None:
            raise ValueError(name)
        width = int(seq.group(1) or 0)
        return str(value).zfill(width)

    return PLACEHOLDER.sub(replace, pattern)


def check_pattern(pattern: str, *, reset: str = Sequence.Reset.NEVER) -> str:
    """The pattern stripped, or a ValidationError on "pattern": it must hold one {seq} (or
    {seq:0N}), only known placeholders, render to at most 40 characters, and carry the year
    (and month) its counter restarts with, or numbers would repeat."""
    pattern = (pattern or "").strip() if isinstance(pattern, str) else ""
    if not pattern:
        raise field_error("pattern", _("Enter a numbering pattern."), ErrorCode.REQUIRED)
    names = PLACEHOLDER.findall(pattern)
    unknown = [n for n in names if n not in DATE_PARTS and SEQ.match(n) is None]
    literal = PLACEHOLDER.sub("", pattern)
    if unknown or "{" in literal or "}" in literal:
        raise field_error(
            "pattern",
            _(
                "Unknown placeholder %(placeholder)s: use {yyyy}, {yy}, {mm}, {dd} and "
                "{seq} or {seq:04}."
            )
            % {"placeholder": "{" + unknown[0] + "}" if unknown else "{ }"},
            ErrorCode.INVALID,
        )
    counters = [n for n in names if SEQ.match(n)]
    if len(counters) != 1:
        raise field_error(
            "pattern",
            _("The pattern must contain the counter once: {seq}, or {seq:04} for 0001."),
            ErrorCode.INVALID,
        )
    has_year = "yyyy" in names or "yy" in names
    if reset == Sequence.Reset.YEARLY and not has_year:
        raise field_error(
            "pattern",
            _("A counter that restarts every year needs the year in the pattern ({yyyy})."),
            ErrorCode.INVALID,
        )
    if reset == Sequence.Reset.MONTHLY and not (has_year and "mm" in names):
        raise field_error(
            "pattern",
            _(
                "A counter that restarts every month needs the year and the month in the "
                "pattern ({yyyy}{mm})."
            ),
            ErrorCode.INVALID,
        )
    longest = render(pattern, on=date(2099, 12, 31), value=CHECKED_VALUE)
    if len(longest) > RENDERED_MAX:
        raise field_error(
            "pattern",
            _("Numbers made from this pattern would be longer than %(limit)s characters.")
            % {"limit": RENDERED_MAX},
            ErrorCode.INVALID,
        )
    return pattern


def preview(pattern: str, *, on: date | None = None, value: int = 1) -> str:
    """What the pattern gives for ``value`` on ``on`` (today), e.g. for the settings page.
    Raises the pattern's ValidationError when it is not valid."""
    pattern = check_pattern(pattern)
    return render(pattern, on=on or timezone.localdate(), value=value)


def sequence_of(key: str, *, default_pattern: str) -> Sequence:
    """The stored sequence, or an unsaved one with the default pattern (restarting yearly)."""
    found = Sequence.objects.filter(key=key).first()
    return found or Sequence(key=key, pattern=default_pattern, reset=Sequence.Reset.YEARLY)


def _locked(key: str, *, default_pattern: str) -> Sequence:
    try:
        with transaction.atomic():
            Sequence.objects.get_or_create(
                key=key, defaults={"pattern": default_pattern, "reset": Sequence.Reset.YEARLY}
            )
    except IntegrityError:
        pass  # made by a concurrent first draw
    return Sequence.objects.select_for_update().get(key=key)


@transaction.atomic
def next_value(key: str, *, default_pattern: str, on: date | None = None) -> str:
    """Draw the next number of the sequence ``key`` (made with ``default_pattern`` the first
    time). The row stays locked until the caller's transaction ends, so concurrent draws wait
    for each other; a rolled-back draw gives its number back."""
    on = on or timezone.localdate()
    sequence = _locked(key, default_pattern=default_pattern)
    period = period_of(sequence.reset, on)
    value = sequence.last_value + 1 if sequence.period == period else 1
    Sequence.objects.filter(pk=sequence.pk).update(
        last_value=value, period=period, updated_at=timezone.now()
    )
    return render(sequence.pattern, on=on, value=value)


@transaction.atomic
def set_pattern(key: str, *, pattern: str, reset: str, by: User | None) -> Sequence:
    """Change a sequence's pattern and when its counter restarts; audited on the sequence.
    The counter goes on from where it is (it restarts with the next period)."""
    if reset not in Sequence.Reset.values:
        raise field_error("reset", _("Choose when the counter restarts."), ErrorCode.INVALID)
    pattern = check_pattern(pattern, reset=reset)
    sequence = Sequence.objects.select_for_update().filter(key=key).first()
    if sequence is None:
        sequence = Sequence.objects.create(key=key, pattern=pattern, reset=reset)
        before = {"pattern": "", "reset": ""}
    else:
        before = {"pattern": sequence.pattern, "reset": sequence.reset}
    changes = []
    for name, value in (("pattern", pattern), ("reset", reset)):
        old = before[name]
        if old == value:
            continue
        if name == "reset":
            old = str(Sequence.Reset(old).label) if old in Sequence.Reset.values else old
            value = str(Sequence.Reset(value).label)
        field = Sequence._meta.get_field(name)
        assert isinstance(field, models.Field)
        label = str(field.verbose_name)
        changes.append({"field": name, "label": label, "old": old, "new": value})
    if changes:
        sequence.pattern = pattern
        sequence.reset = reset
        sequence.save(update_fields=["pattern", "reset", "updated_at"])
        audit.record(sequence, kind=AuditEntry.Kind.UPDATE, actor=by, changes=changes)
    return sequence
