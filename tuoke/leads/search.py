"""Leads in the global search (registered in ``LeadsConfig.ready`` when the registry of
``tuoke.core.search`` is there).

A lead is found by the start of its company name (with or without the region), short name or
contact name, from three characters on by any part of its name (精密科技), its pinyin (full or
initials), credit code, mobile or landline as typed (138 0013 8000, 0755-8600…) and e-mail;
every condition is answered from an index (the trigram one: ``tuoke.leads.search_index``).
The lead list and the API search with the same conditions (``tuoke.leads.queries.search``).
"""

from __future__ import annotations

import re

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tuoke.core import search
from tuoke.core.search import Hit, Source, contains_q, prefix_q
from tuoke.customers import matching
from tuoke.customers.search import phone_prefix

from .models import Lead

_LATIN = re.compile(r"[a-z0-9]+")
_CREDIT_CODE = re.compile(r"[0-9A-Z]{15,18}")
# Shorter than this, a part in the middle of a name matches too much to be worth looking for,
# and the trigram index needs three characters.
MIN_CONTAINS = 3
# A lead is found by three digits of its number (a contact needs five).
MIN_PHONE_DIGITS = 3


def lead_condition(q: str) -> Q:
    """The leads matching ``q``, as conditions each answered from an index."""
    condition = prefix_q("short_name", q) | prefix_q("company_name", q)
    condition |= prefix_q("contact_name", q)
    key = matching.normalize_company_name(q)
    if key:
        condition |= prefix_q("name_key", key)
        if len(key) >= MIN_CONTAINS:
            condition |= contains_q(Lead, "name_key", key)
    lowered = q.lower().replace(" ", "")
    if _LATIN.fullmatch(lowered):
        condition |= prefix_q("pinyin_initials", lowered) | prefix_q("pinyin_full", lowered)
    code = matching.normalize_credit_code(q)
    if _CREDIT_CODE.fullmatch(code):
        condition |= Q(credit_code=code)
    phone = phone_prefix(q, min_digits=MIN_PHONE_DIGITS)
    if phone:
        condition |= prefix_q("mobile", phone) | prefix_q("phone", phone)
    if "@" in q or _LATIN.fullmatch(lowered.replace(".", "").replace("_", "").replace("-", "")):
        condition |= prefix_q("email", matching.normalize_email(q))
    return condition


def match_leads(queryset: QuerySet[Lead], q: str) -> QuerySet[Lead]:
    return queryset.filter(lead_condition(q)).order_by("-created_at", "-pk")


def lead_hit(lead: Lead) -> Hit:
    facts = [
        lead.company_name if lead.company_name != lead.display_name else "",
        lead.contact_name if lead.contact_name != lead.display_name else "",
        str(lead.get_status_display()),
        str(lead.owner),
    ]
    return Hit(
        title=lead.display_name,
        detail=" · ".join(f for f in facts if f),
        url=reverse("leads:lead_detail", args=[lead.pk]),
    )


def register() -> None:
    search.register(
        Source(
            key="leads",
            label=_("Leads"),
            model=Lead,
            match=match_leads,
            hit=lead_hit,
            icon="target-arrow",
            order=30,
            prepare=lambda qs: qs.select_related("owner"),
        )
    )
