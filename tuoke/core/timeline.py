"""Timelines of records (a customer's today; leads, opportunities and contracts later): the
events of the sources apps register, merged newest first and paged by a cursor.

A source says which of its rows are about a record and visible to a user (``keys``, a
queryset ordered by ``at``) and turns a page's rows into events (``load``). A page asks each
chosen source for its newest ``limit + 1`` rows before the cursor, merges them, and loads only
the rows on the page: a constant number of queries per page, however long the history.

Events are ordered by (time, source key, row id), newest first, so that events at the same
moment keep one order across pages; the cursor is the last event shown.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.contrib.humanize.templatetags.humanize import naturaltime
from django.db import connection, models
from django.db.models import F, Q, Value
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.dateformat import format as date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from .errors import ErrorCode, field_error

if TYPE_CHECKING:
    from tuoke.org.models import User

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


# --- Events -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One thing that happened to a record, ready to show. ``body`` is safe HTML (sources
    escape what users wrote); ``kind`` is the source's key and, with ``pk``, names the event."""

    at: datetime
    kind: str
    pk: int
    title: str
    icon: str = ""
    body: str = ""
    actor: Any = None
    url: str = ""
    color: str = ""
    kind_label: str = ""

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.pk}"

    @property
    def local_at(self) -> datetime:
        return timezone.localtime(self.at)

    @property
    def when(self) -> str:
        """The day and time as people read them in a plan: "11月22日 周日 14:30" in Chinese,
        "Sun, Nov 22, 14:30" in English; with the year when it is not this year's."""
        return moment_label(self.at)

    @property
    def exact(self) -> str:
        return self.local_at.strftime("%Y-%m-%d %H:%M:%S")

    @property
    def relative(self) -> str:
        return str(naturaltime(self.at))


def moment_label(moment: datetime, *, now: datetime | None = None) -> str:
    """ "11月22日 周日 14:30" (Chinese) or "Sun, Nov 22, 14:30"; the year is added when the
    moment is not in the current year."""
    local = timezone.localtime(moment)
    this_year = timezone.localtime(now or timezone.now()).year
    if (translation.get_language() or "").lower().startswith("zh"):
        year = f"{local.year}年" if local.year != this_year else ""
        weekday = WEEKDAYS_ZH[local.weekday()]
        return f"{year}{local.month}月{local.day}日 {weekday} {local:%H:%M}"
    return date_format(local, "D, M j, H:i" if local.year == this_year else "D, M j, Y, H:i")


def url_or_blank(name: str, *args: Any) -> str:
    """The URL of a page another app may not have yet (e.g. a follow-up's own page)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


# --- Sources ------------------------------------------------------------------------------------


def _always(user: User) -> bool:
    return True


@dataclass(frozen=True)
class Source:
    """A kind of event on the timelines of one record type (``subject``, e.g. "customer").

    ``keys(record, user)`` → the queryset of this source's rows about ``record`` that ``user``
    may see (start it from ``visible_to(user)``); ``at`` names the field (or an expression)
    that times each row. ``load(pks, user)`` → the events of those rows (any order; rows gone
    meanwhile are left out). ``available(user)`` skips the source (and its chip) for people
    who may see none of it. ``order`` places its filter chip.
    """

    key: str
    label: str | Promise
    icon: str
    keys: Callable[[models.Model, User], models.QuerySet]
    load: Callable[[list[int], User], Iterable[Event]]
    at: str | models.Expression = "created_at"
    subject: str = "customer"
    order: int = 100
    color: str = "secondary"
    available: Callable[[User], bool] = field(default=_always)

    def __post_init__(self) -> None:
        if not _KEY.match(self.key):
            raise ValueError(
                f"a timeline source key is lowercase letters, digits and _: {self.key}"
            )


_registry: dict[str, dict[str, Source]] = {}


def register(source: Source) -> Source:
    """Add a source (or replace the one with its key) to its record type's timelines."""
    _registry.setdefault(source.subject, {})[source.key] = source
    return source


def unregister(subject: str, key: str) -> None:
    _registry.get(subject, {}).pop(key, None)


def sources(subject: str, user: User | None = None) -> list[Source]:
    """The sources of a record type's timelines in chip order; with ``user``, those he may
    see something of."""
    found = sorted(_registry.get(subject, {}).values(), key=lambda s: (s.order, s.key))
    if user is not None:
        found = [s for s in found if s.available(user)]
    return found


def subject_of(record: models.Model) -> str:
    return getattr(record, "record_type", "") or record._meta.model_name or ""


# --- Cursors ------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Cursor:
    """The last event shown: the next page starts right after it (older)."""

    at: datetime
    kind: str
    pk: int

    def encode(self) -> str:
        micros = (self.at - _EPOCH) // timedelta(microseconds=1)
        return f"{micros}~{self.kind}~{self.pk}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Raises ValueError for anything but a cursor this module wrote."""
        parts = (text or "").split("~")
        if len(parts) != 3 or not _KEY.match(parts[1]):
            raise ValueError("not a timeline cursor")
        micros, pk = int(parts[0]), int(parts[2])
        if pk < 1 or abs(micros) > 10**17:
            raise ValueError("not a timeline cursor")
        return cls(_EPOCH + timedelta(microseconds=micros), parts[1], pk)

    @classmethod
    def of(cls, event: Event) -> Cursor:
        return cls(event.at, event.kind, event.pk)


def cursor_from(text: str | None) -> Cursor | None:
    """The cursor a page was asked for ``before`` (None when not given); anything but a
    cursor this module wrote is a ValidationError on ``before``."""
    if not text:
        return None
    try:
        return Cursor.decode(text)
    except ValueError:
        raise field_error(
            "before", _("This is not a place in the timeline."), ErrorCode.INVALID
        ) from None


def _after(source_key: str, cursor: Cursor) -> Q:
    """This source's rows that come after ``cursor`` in the order (at, key, pk) descending."""
    if source_key < cursor.kind:
        return Q(timeline_at__lte=cursor.at)
    if source_key > cursor.kind:
        return Q(timeline_at__lt=cursor.at)
    # "at <= …" first, so that the database seeks its index to the cursor's time.
    return Q(timeline_at__lte=cursor.at) & (Q(timeline_at__lt=cursor.at) | Q(pk__lt=cursor.pk))


# --- Pages --------------------------------------------------------------------------------------


@dataclass
class Page:
    events: list[Event]
    next_cursor: str | None
    kinds: list[Source]
    chosen: list[str]

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


def page(
    record: models.Model,
    user: User,
    *,
    kinds: Sequence[str] | None = None,
    before: Cursor | None = None,
    limit: int = PAGE_SIZE,
) -> Page:
    """One page of ``record``'s timeline as ``user`` may see it (the caller fetched ``record``
    through the user's data scope): the events of the sources ``kinds`` (all when empty)
    older than ``before``, newest first."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    available = sources(subject_of(record), user)
    chosen = [s for s in available if s.key in set(kinds or ())] if kinds else available
    ordered = heapq.nlargest(limit + 1, _newest_keys(chosen, record, user, before, limit + 1))
    shown, more = ordered[:limit], len(ordered) > limit
    events = _load(shown, {s.key: s for s in chosen}, user)
    next_cursor = Cursor(*shown[-1]).encode() if more and shown else None
    return Page(
        events=events,
        next_cursor=next_cursor,
        kinds=available,
        chosen=[s.key for s in chosen] if kinds else [],
    )


def _newest_keys(
    chosen: list[Source], record: models.Model, user: User, before: Cursor | None, count: int
) -> list[tuple[datetime, str, int]]:
    """(at, source key, pk) of each source's newest ``count`` rows after the cursor."""
    queries = []
    for source in chosen:
        at = F(source.at) if isinstance(source.at, str) else source.at
        keys = source.keys(record, user).annotate(
            timeline_at=at, timeline_kind=Value(source.key, output_field=models.CharField())
        )
        if before is not None:
            keys = keys.filter(_after(source.key, before))
        keys = keys.order_by("-timeline_at", "-pk").values_list(
            "timeline_at", "timeline_kind", "pk"
        )
        queries.append(keys[:count])
    if not queries:
        return []
    if len(queries) > 1 and connection.features.supports_slicing_ordering_in_compound:
        # One round trip instead of one per source (PostgreSQL); SQLite cannot limit the
        # parts of a UNION, so it asks each source in turn (no round trips to save there).
        return list(queries[0].union(*queries[1:], all=True))
    return [row for query in queries for row in query]


def _load(
    shown: list[tuple[datetime, str, int]], by_key: dict[str, Source], user: User
) -> list[Event]:
    wanted: dict[str, list[int]] = {}
    for _at, key, pk in shown:
        wanted.setdefault(key, []).append(pk)
    loaded: dict[tuple[str, int], Event] = {}
    for key, pks in wanted.items():
        source = by_key[key]
        for event in source.load(pks, user):
            loaded[(key, event.pk)] = event
    events = []
    for moment, key, pk in shown:
        event = loaded.get((key, pk))
        if event is None:
            continue
        source = by_key[key]
        # The time the rows were paged by is the event's time, so the cursor matches it.
        events.append(
            replace(
                event,
                at=moment,
                kind=key,
                kind_label=event.kind_label or str(source.label),
                icon=event.icon or source.icon,
                color=event.color or source.color,
            )
        )
    return events


def parse_kinds(values: Iterable[str]) -> list[str]:
    """Kinds from query parameters, repeated (?kinds=a&kinds=b) or comma-separated."""
    found: list[str] = []
    for value in values:
        for part in (value or "").split(","):
            part = part.strip()
            if part and part not in found:
                found.append(part)
    return found
