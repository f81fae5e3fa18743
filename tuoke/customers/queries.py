"""Reads of customers that are more than a filter: the search by name, pinyin initials and
credit code that the list page, the API and global search share."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Customer
from .search import customer_condition

MATCHES_AS_IDS = 5_000


def search(queryset: QuerySet[Customer], q: str) -> QuerySet[Customer]:
    """Customers whose name starts with ``q`` (with or without its region: 深圳腾达 finds
    深圳市腾达精密科技有限公司, in any script or width), whose short name or pinyin starts with
    it (tdjm, tengda → 腾达精密), whose credit code it is, or, from three characters on, whose
    name holds it anywhere (精密科技). Each condition is answered from an index, so searching a
    million customers stays fast (see ``tuoke.customers.search``)."""
    q = q.strip()
    if not q:
        return queryset
    found = queryset.filter(customer_condition(q))
    # The matches are fetched first and given back as ids: asked for a page of matches by
    # date, a database that overestimates how many names start with 康启 walks its date index
    # through a million customers (bench/README.md). With more matches than this, the
    # search is too vague for that to matter.
    ids = list(found.order_by().values_list("pk", flat=True)[: MATCHES_AS_IDS + 1])
    if len(ids) > MATCHES_AS_IDS:
        return found
    return queryset.filter(pk__in=ids)
