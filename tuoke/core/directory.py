"""Caching what pages build from the directory: people, units, roles and their grants, tags,
custom field definitions and saved views.

Lists offer every colleague the user may see as an owner filter, every unit, every tag. Built
for each page view that is hundreds of model instances and options (a third of the customer
list's time on the "large" data set, bench/README.md), although the directory changes a few
times a day. ``cached_for`` keeps such a piece per user and language under the directory's
fingerprint: the row counts, highest ids and summed versions of the watched tables (apps name
the models that feed their pieces with ``watch``), read in one query of small tables. Every
write moves it, including those that bypass signals (``QuerySet.update`` with a version
check, as the services do), so a piece is never served after a change, whichever process
made it.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, TypeVar

from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import connection, models
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.translation import get_language

if TYPE_CHECKING:
    from tuoke.org.models import User

T = TypeVar("T")

TIMEOUT = 600  # seconds; pieces of an outdated fingerprint are never read again

_watched: list[type[models.Model]] = []
_sql: str | None = None
# Within ``steady()`` the fingerprint read first (a list of it once read); None outside.
_steady: ContextVar[list[str] | None] = ContextVar("directory_steady", default=None)


def watch(*watched: type[models.Model]) -> None:
    """Count these models (and their many-to-many tables) into the fingerprint."""
    global _sql
    for model in watched:
        tables = [
            model,
            *(
                f.remote_field.through
                for f in model._meta.local_many_to_many
                if f.remote_field.model._meta.app_label != "auth"  # Django's unused groups
            ),
        ]
        for table in tables:
            if table not in _watched:
                _watched.append(table)
                post_save.connect(_forget, sender=table, dispatch_uid=f"directory:{table}")
                post_delete.connect(_forget, sender=table, dispatch_uid=f"directory:{table}")
        for f in model._meta.local_many_to_many:
            m2m_changed.connect(
                _forget, sender=f.remote_field.through, dispatch_uid=f"directory:m2m:{f}"
            )
    _sql = None


@contextmanager
def steady() -> Iterator[None]:
    """Within this block the fingerprint is read once, not by each piece: for a request
    that changes nothing (GET, HEAD; ``tuoke.core.middleware``), whose page reads a dozen
    pieces. A write to a watched table through the ORM within it reads it afresh."""
    token = _steady.set([])
    try:
        yield
    finally:
        _steady.reset(token)


def _forget(**kwargs) -> None:
    held = _steady.get()
    if held:
        held.clear()


def _fingerprint_sql() -> str:
    """One row: per watched table one text of its numbers, each table read once (a
    sub-select per number took PostgreSQL longer to plan than to run)."""
    quote = connection.ops.quote_name
    parts = []
    for model in _watched:
        table = quote(model._meta.db_table)
        numbers = ["COUNT(*)", f"MAX({quote(model._meta.pk.column)})"]
        names = {f.name: f.column for f in model._meta.concrete_fields}
        if "version" in names:
            numbers.append(f"SUM({quote(names['version'])})")
        if "updated_at" in names:
            # A save that does not count a version moves it (a user's new password or
            # deactivation), as does a change to list preferences, which have no version.
            numbers.append(f"MAX({quote(names['updated_at'])})")
        if "version" not in names and "updated_at" not in names:
            # a link or grant table, rewritten rather than updated: its numbers
            numbers += [
                f"SUM({quote(f.column)})"
                for f in model._meta.concrete_fields
                if not f.primary_key and (f.is_relation or isinstance(f, models.IntegerField))
            ]
        text = " || ':' || ".join(f"COALESCE(CAST({n} AS TEXT), '')" for n in numbers)
        parts.append(f"(SELECT {text} FROM {table})")  # noqa: S608 - quoted model tables
    return "SELECT " + ", ".join(parts)


# PostgreSQL connections on which the fingerprint is a prepared statement.
_prepared: weakref.WeakSet = weakref.WeakSet()


def _statement(cursor, sql: str) -> str:
    """What to run for ``sql``: on PostgreSQL a statement prepared once per connection, as
    planning the fingerprint's dozen sub-selects took longer than running them (0.55 ms
    against 0.22 ms a page; bench/README.md). A prepared statement lives as long as its
    connection, so behind PgBouncer use session pooling."""
    if connection.vendor != "postgresql":
        return sql
    name = "tuoke_fingerprint_" + hashlib.blake2b(sql.encode(), digest_size=6).hexdigest()
    raw = connection.connection
    if raw not in _prepared:
        cursor.execute("SELECT 1 FROM pg_prepared_statements WHERE name = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f"PREPARE {name} AS {sql}")
        _prepared.add(raw)
    return f"EXECUTE {name}"


def version() -> str:
    """The directory's fingerprint: it changes with every write to a watched table."""
    global _sql
    held = _steady.get()
    if held:
        return held[0]
    if _sql is None:
        _sql = _fingerprint_sql()
    with connection.cursor() as cursor:
        cursor.execute(_statement(cursor, _sql))
        row = cursor.fetchone()
    found = hashlib.blake2b(repr(row).encode(), digest_size=8).hexdigest()
    if held is not None:
        held.append(found)
    return found


def cached_for(user: User, name: str, build: Callable[[], T]) -> T:
    """``build()``'s result for ``user`` in the active language, kept until the directory
    changes."""
    return _cached(f"directory:{name}:{user.pk}:{get_language()}:{version()}", build)


def cached(name: str, build: Callable[[], T]) -> T:
    """``build()``'s result for everyone, kept until the directory changes (e.g. the custom
    field definitions of a record type)."""
    return _cached(f"directory:{name}:{version()}", build)


# Pieces already read by this process, by key. A key holds the fingerprint, so what it names
# never changes: the shared cache (locmem, or Redis in production) is asked once per process
# and piece, not on every page (each ask unpickles the piece, and with Redis is a round trip).
_local: dict[str, object] = {}
LOCAL_SIZE = 4096


def _forget_local(*, setting: str, **kwargs) -> None:
    """Another cache configured (each test has its own): what this process kept goes too."""
    if setting == "CACHES":
        _local.clear()


setting_changed.connect(_forget_local, dispatch_uid="directory:local")


def kept_here(name: str, build: Callable[[], T]) -> T:
    """``build()``'s result, kept until the directory changes by this process alone, never
    in the shared cache (e.g. a user with his password's hash, ``tuoke.org.backends``)."""
    return _cached(f"directory:{name}:{version()}", build, shared=False)


def _cached(key: str, build: Callable[[], T], *, shared: bool = True) -> T:
    """``build()``'s result under ``key``: from this process's own copy, else from the shared
    cache, else built. Callers treat what they get as read-only (it is shared by requests)."""
    if key in _local:
        return _local[key]  # type: ignore[return-value]
    found = cache.get(key) if shared else None
    if found is None:
        found = build()
        if shared:
            cache.set(key, found, TIMEOUT)
    if len(_local) >= LOCAL_SIZE:
        _local.clear()  # outdated fingerprints' pieces go with the rest; read again as needed
    _local[key] = found
    return found
