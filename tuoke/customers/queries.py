"""Reads of customers that are more than a filter: the search by name, pinyin initials and
credit code that the list page, the API and global search share."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from . import matching
from .models import Customer


def search(queryset: QuerySet[Customer], q: str) -> QuerySet[Customer]:
    """Customers whose short or legal name holds ``q``, whose pinyin initials start with it
    (tdjm → 腾达精密), whose credit code is it, or whose normalised name holds its normalised
    form (深圳腾达 finds 深圳市腾达精密科技有限公司)."""
    q = q.strip()
    if not q:
        return queryset
    key = matching.normalize_company_name(q)
    condition = (
        Q(short_name__icontains=q)
        | Q(legal_name__icontains=q)
        | Q(pinyin_initials__startswith=q.lower())
        | Q(credit_code=q.upper())
    )
    if key:
        condition |= Q(name_key__contains=key)
    return queryset.filter(condition)
