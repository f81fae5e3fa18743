"""What list pages share besides pagination: the columns a user chooses and the sort keys a
list accepts. A list keeps its whole state in the query string (filters, ``sort``, ``cols``),
so a link or a saved view (``tuoke.core.saved_views``) shows the same list again."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db.models import Aggregate, CharField, F, OrderBy, OuterRef, Subquery
from django.utils.functional import Promise

COLUMNS_PARAM = "cols"


def capped_count(queryset, cap: int) -> int:
    """How many rows ``queryset`` has, counted up to ``cap + 1`` in one LIMITed subquery
    (``SELECT COUNT(*) FROM (SELECT id … LIMIT cap + 1)``): lists and the API show "2,000+"
    (``settings.LIST_COUNT_CAP``) rather than count a million customers exactly."""
    return queryset.order_by().values("pk")[: cap + 1].count()


class JoinedIds(Aggregate):
    """Ids as one text, comma-separated: ``group_concat`` on SQLite, ``string_agg`` on
    PostgreSQL."""

    function = "GROUP_CONCAT"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            function="STRING_AGG",
            template="%(function)s(CAST(%(expressions)s AS TEXT), ',')",
            **extra,
        )


def linked_ids(links, owner: str, target: str) -> Subquery:
    """For each row of a list, the ``target`` ids of the link table ``links`` whose ``owner``
    is that row, as ``JoinedIds`` text (read with ``split_ids``): a page's tags come with its
    rows instead of in a query of their own."""
    joined = (
        links.objects.filter(**{owner: OuterRef("pk")})
        .order_by()
        .values(owner)
        .annotate(ids=JoinedIds(target))
        .values("ids")
    )
    return Subquery(joined, output_field=CharField())


def split_ids(text: str | None) -> list[int]:
    return [int(part) for part in text.split(",")] if text else []


@dataclass(frozen=True)
class Column:
    """A column of a list. ``fixed`` columns are always shown, first (e.g. the name)."""

    key: str
    label: str | Promise
    sort: str = ""  # the sort key its header sorts by ("" = not sortable)
    default: bool = True  # shown until the user chooses his columns
    fixed: bool = False


def parse_columns(value: str | Iterable[str] | None) -> list[str]:
    """Column keys from ``cols=a,b,c`` (or a list of keys), in order, without repeats."""
    if value is None:
        return []
    keys = value.split(",") if isinstance(value, str) else list(value)
    found: list[str] = []
    for key in keys:
        key = key.strip()
        if key and key not in found:
            found.append(key)
    return found


def shown_columns(columns: Iterable[Column], chosen: Iterable[str] | None) -> list[Column]:
    """The columns to show: the fixed ones, then the chosen ones in the chosen order (unknown
    keys, e.g. of a deleted custom field, are skipped); the defaults when nothing valid was
    chosen."""
    columns = list(columns)
    fixed = [c for c in columns if c.fixed]
    by_key = {c.key: c for c in columns if not c.fixed}
    picked = [by_key[key] for key in parse_columns(chosen) if key in by_key]
    if not picked:
        picked = [c for c in columns if c.default and not c.fixed]
    return fixed + picked


def columns_param(shown: Iterable[Column]) -> str:
    """``cols`` for the query string of the columns shown (the fixed ones are implied)."""
    return ",".join(c.key for c in shown if not c.fixed)


def ordering(
    sort: str | None,
    fields: Mapping[str, str],
    *,
    default: str,
    nullable: Iterable[str] = (),
) -> tuple[str, list[OrderBy]]:
    """(the sort key in effect, the order_by terms) for ``sort`` = "key" or "-key", one of
    ``fields`` (sort key → model field); anything else gives ``default``.

    Ties break on the primary key in the same direction, so pages never overlap and one
    index (field, id) serves both directions. Empty values of ``nullable`` fields count as
    the oldest/smallest: first going up, last going down.
    """
    sort = (sort or "").strip()
    if sort.removeprefix("-") not in fields:
        sort = default
    descending = sort.startswith("-")
    key = sort.removeprefix("-")
    field = fields[key]
    nulls = key in set(nullable)
    if descending:
        term = F(field).desc(nulls_last=True) if nulls else F(field).desc()
        return sort, [term, F("pk").desc()]
    term = F(field).asc(nulls_first=True) if nulls else F(field).asc()
    return sort, [term, F("pk").asc()]
