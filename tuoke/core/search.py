"""Global search: each app registers what its records can be found by (a ``Source``), and
``search(user, q)`` asks every source the user may read, always within his data scope.

A source only says how to match and how to show a hit; the registry starts each query from
``Model.objects.visible_to(user)``, so no source can reach past the user's scope.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import connection, models
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils.functional import Promise

from .models import Action
from .scope import can

if TYPE_CHECKING:
    from tuoke.org.models import User

MAX_QUERY_LENGTH = 100
_SPACES = re.compile(r"\s+")


# --- Conditions an index answers -------------------------------------------------------------


def prefix_q(field: str, prefix: str) -> Q:
    """Rows whose ``field`` starts with ``prefix``, in a form a plain index answers.

    PostgreSQL answers ``LIKE 'x%'`` from the ``varchar_pattern_ops`` index Django adds to
    every indexed text field. SQLite's LIKE ignores case and so cannot use an index; its
    binary order is code point order, so the prefix is a range there.
    """
    if connection.vendor == "sqlite" and prefix and ord(prefix[-1]) < 0x10FFFF:
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return Q(**{f"{field}__gte": prefix, f"{field}__lt": upper})
    return Q(**{f"{field}__startswith": prefix})


def search_table(model: type[models.Model]) -> str:
    """The SQLite FTS5 trigram table that mirrors a model's searchable text columns."""
    return f"{model._meta.db_table}_search"


def contains_q(model: type[models.Model], field: str, text: str) -> Q:
    """Rows whose ``field`` holds ``text`` anywhere; ``text`` needs at least three characters,
    because both indexes below are made of trigrams. Meant for columns of folded keys (lower
    case, like a customer's name key): give ``text`` folded the same way.

    PostgreSQL answers ``LIKE '%text%'`` from a ``pg_trgm`` GIN index on the column; SQLite
    from an FTS5 table with the trigram tokenizer (``search_table``), kept in step with the
    model's table by triggers. Both are created by the model's app's migrations.
    """
    if connection.vendor != "sqlite":
        return Q(**{f"{field}__contains": text})
    table = search_table(model)
    phrase = '"' + text.replace('"', '""') + '"'
    column = model._meta.get_field(field).column
    # The table's name comes from the model, the text goes in as a parameter.
    query = f"SELECT rowid FROM {table} WHERE {table} MATCH %s"  # noqa: S608
    return Q(pk__in=RawSQL(query, [f"{column}: {phrase}"]))  # noqa: S611


# --- Sources ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One found record as the results show it."""

    title: str
    detail: str = ""
    url: str | None = None  # None: nothing to open (the user may see it but has no page)


@dataclass(frozen=True)
class Source:
    """What one kind of record is found by.

    ``match(queryset, q)`` narrows a queryset the user may see to the rows matching ``q``
    (already cleaned, never empty) and orders them best first; ``hit(record)`` says how a
    row is shown. ``prepare`` adds the select_related/only a hit needs, so a page of hits
    costs one query.
    """

    key: str
    label: str | Promise
    model: type[models.Model]
    match: Callable[[models.QuerySet, str], models.QuerySet]
    hit: Callable[[models.Model], Hit]
    icon: str = "search"
    order: int = 100
    action: str = Action.VIEW
    prepare: Callable[[models.QuerySet], models.QuerySet] | None = None

    def allowed(self, user: User) -> bool:
        return can(user, self.model.record_type, self.action)

    def queryset(self, user: User, q: str) -> models.QuerySet:
        found = self.match(self.model.objects.visible_to(user, self.action), q)
        return self.prepare(found) if self.prepare else found


@dataclass(frozen=True)
class Group:
    """The hits of one source; ``more`` when it has further hits than were asked for."""

    source: Source
    hits: list[Hit]
    more: bool


_sources: dict[str, Source] = {}


def register(source: Source) -> None:
    """Add (or replace, by key) a source; apps call this from ``AppConfig.ready``."""
    _sources[source.key] = source


def sources_for(user: User) -> list[Source]:
    """The sources whose records the user may read, in their display order."""
    if not user.is_authenticated:
        return []
    return [s for s in sorted(_sources.values(), key=lambda s: s.order) if s.allowed(user)]


def get_source(key: str) -> Source | None:
    return _sources.get(key)


def clean_query(q: str | None) -> str:
    """The query as matched: spaces folded, at most ``MAX_QUERY_LENGTH`` characters."""
    return _SPACES.sub(" ", q or "").strip()[:MAX_QUERY_LENGTH]


def search(
    user: User, q: str, limit_per_source: int = 5, *, only: str | None = None
) -> list[Group]:
    """The records matching ``q`` that ``user`` may see, by source, at most
    ``limit_per_source`` each (one query per source). Sources without hits are left out."""
    q = clean_query(q)
    if not q:
        return []
    groups = []
    for source in sources_for(user):
        if only is not None and source.key != only:
            continue
        rows = list(source.queryset(user, q)[: limit_per_source + 1])
        if rows:
            hits = [source.hit(row) for row in rows[:limit_per_source]]
            groups.append(Group(source, hits, more=len(rows) > limit_per_source))
    return groups
