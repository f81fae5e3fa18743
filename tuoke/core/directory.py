"""Caching what pages build from the directory: people, units, roles and tags.

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
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from django.core.cache import cache
from django.db import connection, models
from django.utils.translation import get_language

if TYPE_CHECKING:
    from tuoke.org.models import User

T = TypeVar("T")

TIMEOUT = 600  # seconds; pieces of an outdated fingerprint are never read again

_watched: list[type[models.Model]] = []
_sql: str | None = None


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
    _sql = None


def _fingerprint_sql() -> str:
    quote = connection.ops.quote_name
    parts = []
    for model in _watched:
        table = quote(model._meta.db_table)
        pk = quote(model._meta.pk.column)
        columns = [f"COUNT(*) FROM {table}", f"MAX({pk}) FROM {table}"]
        names = {f.name: f.column for f in model._meta.concrete_fields}
        if "version" in names:
            columns.append(f"SUM({quote(names['version'])}) FROM {table}")
        else:  # a link or grant table, rewritten rather than updated: its numbers
            columns += [
                f"SUM({quote(f.column)}) FROM {table}"
                for f in model._meta.concrete_fields
                if not f.primary_key and (f.is_relation or isinstance(f, models.IntegerField))
            ]
        parts += [f"(SELECT {column})" for column in columns]
    return "SELECT " + ", ".join(parts)


def version() -> str:
    """The directory's fingerprint: it changes with every write to a watched table."""
    global _sql
    if _sql is None:
        _sql = _fingerprint_sql()
    with connection.cursor() as cursor:
        cursor.execute(_sql)
        row = cursor.fetchone()
    return hashlib.blake2b(repr(row).encode(), digest_size=8).hexdigest()


def cached_for(user: User, name: str, build: Callable[[], T]) -> T:
    """``build()``'s result for ``user`` in the active language, kept until the directory
    changes."""
    key = f"directory:{name}:{user.pk}:{get_language()}:{version()}"
    found = cache.get(key)
    if found is None:
        found = build()
        cache.set(key, found, TIMEOUT)
    return found
