"""Customers and contacts in the global search (registered in ``CustomersConfig.ready``).

Customers are found by the start of their name (with or without the region: 深圳腾达 finds
深圳市腾达精密科技有限公司), their short name, pinyin (tdjm, tengda), credit code, and from
three characters on by any part of their names; contacts by name, mobile or landline (as
typed: 138 0013 8000, 0755-8600…), and e-mail.
"""

from __future__ import annotations

import re

from django.db.models import Case, IntegerField, Q, QuerySet, When
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tuoke.core import search
from tuoke.core.search import Hit, Source, contains_q, prefix_q

from . import matching
from .models import Contact, Customer, LifecycleStatus

_LATIN = re.compile(r"[a-z0-9]+")
_PHONE_CHARACTERS = re.compile(r"[\d\s()+\-]+")
_CREDIT_CODE = re.compile(r"[0-9A-Z]{15,18}")
_EMAIL_START = re.compile(r"[a-z0-9._%+\-]+")
# Shorter than this, a part in the middle of a name matches too much to be worth scanning for;
# and the trigram indexes need three characters.
MIN_CONTAINS = 3
MIN_PINYIN = 2  # one letter starts a twentieth of all names
MIN_CONTACT_NAME = 2
MIN_EMAIL = 4
MIN_PHONE_DIGITS = 5
# How many matches are ranked; a query matching more is too vague to rank them all.
CANDIDATES = 200
CONTACT_CANDIDATES = 2_000


def phone_prefix(q: str, *, min_digits: int = MIN_PHONE_DIGITS) -> str | None:
    """What a typed (part of a) phone number looks like stored in E.164, or None when it
    is no number or has fewer than ``min_digits`` digits."""
    if not _PHONE_CHARACTERS.fullmatch(q):
        return None
    digits = re.sub(r"\D", "", q)
    if len(digits) < min_digits:
        return None
    if q.lstrip().startswith("+"):
        return "+" + digits
    if digits.startswith("0"):  # a landline with its area code: 0755 → +86755
        return "+86" + digits[1:]
    return "+86" + digits


def _name_keys(q: str) -> list[str]:
    """The normalised name and, when it starts with a region, the rest too: the engine keeps
    深圳腾达 whole (two characters are too little to be a company), but a search means 腾达."""
    key = matching.normalize_company_name(q)
    if not key:
        return []
    found = matching._REGION_PREFIX_WITH_ENDING_RE.match(
        key
    ) or matching._REGION_PREFIX_BARE_RE.match(key)
    rest = key[found.end() :] if found else ""
    return [key, rest] if rest else [key]


def customer_condition(q: str) -> Q:
    """The customers matching ``q``, as conditions each answered from an index."""
    condition = prefix_q("short_name", q)
    for key in _name_keys(q):
        condition |= prefix_q("name_key", key)
        if len(key) >= MIN_CONTAINS:
            condition |= contains_q(Customer, "name_key", key)
    lowered = q.lower().replace(" ", "")
    if len(lowered) >= MIN_PINYIN and _LATIN.fullmatch(lowered):
        condition |= prefix_q("pinyin_initials", lowered) | prefix_q("pinyin_full", lowered)
    code = matching.normalize_credit_code(q)
    if _CREDIT_CODE.fullmatch(code):
        condition |= Q(credit_code=code)
    return condition


def _best_first(queryset: QuerySet, condition: Q, rank: Case) -> QuerySet:
    """The rows matching ``condition``, best ``rank`` first, then the most recently changed.

    The rows are picked first without an order (each condition from its index), at most
    ``CANDIDATES`` of them, and only those are ranked: ordering the whole match by a time
    would make the database walk the time index and test every row against the conditions.
    """
    picked = queryset.filter(condition).order_by().values("pk")[:CANDIDATES]
    return queryset.filter(pk__in=picked).annotate(rank=rank).order_by("rank", "-updated_at", "-pk")


def match_customers(queryset: QuerySet[Customer], q: str) -> QuerySet[Customer]:
    """Best first: the same name, then names starting with the query, then the rest."""
    keys = _name_keys(q)
    same = Q(short_name=q)
    starts = prefix_q("short_name", q)
    for key in keys:
        same |= Q(name_key=key)
        starts |= prefix_q("name_key", key)
    rank = Case(When(same, then=0), When(starts, then=1), default=2, output_field=IntegerField())
    return _best_first(queryset, customer_condition(q), rank)


def contact_condition(q: str) -> Q:
    """The contacts matching ``q``. A single character of a name (a surname: 王), a few
    letters of an address or digits of a phone match tens of thousands of contacts, too many
    to be of use, so names need two characters, addresses four and phones five digits."""
    condition = Q(pk__in=[])
    if len(q) >= MIN_CONTACT_NAME:
        condition |= prefix_q("name", q)
    phone = phone_prefix(q)
    if phone:
        condition |= prefix_q("mobile", phone) | prefix_q("phone", phone)
    email = matching.normalize_email(q)
    if "@" in email or (len(email) >= MIN_EMAIL and _EMAIL_START.fullmatch(email)):
        condition |= prefix_q("email", email)
    return condition


def match_contacts(queryset: QuerySet[Contact], q: str) -> QuerySet[Contact]:
    """Best first: the same name, then the most recently changed.

    Unlike customers, contacts are picked before the scope is applied: a contact's scope goes
    through its customer, and PostgreSQL, asked for the first rows of that join, walks all
    contacts in customer order. The first ``CONTACT_CANDIDATES`` matches company-wide are
    picked from the indexes alone, and the scope keeps the user's among them; the minimum
    lengths above keep real searches below that number.
    """
    picked = Contact.objects.filter(contact_condition(q)).order_by().values("pk")
    rank = Case(When(name=q, then=0), default=1, output_field=IntegerField())
    return (
        queryset.filter(pk__in=picked[:CONTACT_CANDIDATES])
        .annotate(rank=rank)
        .order_by("rank", "-updated_at", "-pk")
    )


def _customer_hit(customer: Customer) -> Hit:
    facts = [customer.legal_name if customer.legal_name != customer.display_name else ""]
    facts += [customer.city, str(customer.owner)]
    if customer.lifecycle_status != LifecycleStatus.POTENTIAL:
        facts.append(str(customer.get_lifecycle_status_display()))
    return Hit(
        title=customer.display_name,
        detail=" · ".join(f for f in facts if f),
        url=reverse("customers:customer_detail", args=[customer.pk]),
    )


def _contact_hit(contact: Contact) -> Hit:
    phone = contact.mobile or contact.phone
    facts = [
        contact.customer.display_name,
        contact.title,
        matching.format_phone(phone) if phone else "",
        contact.email,
    ]
    return Hit(
        title=contact.name,
        detail=" · ".join(f for f in facts if f),
        url=reverse("customers:customer_detail", args=[contact.customer_id])
        + f"#contact-{contact.pk}",
    )


def register() -> None:
    search.register(
        Source(
            key="customers",
            label=_("Customers"),
            model=Customer,
            match=match_customers,
            hit=_customer_hit,
            icon="building",
            order=10,
            prepare=lambda qs: qs.select_related("owner"),
        )
    )
    search.register(
        Source(
            key="contacts",
            label=_("Contacts"),
            model=Contact,
            match=match_contacts,
            hit=_contact_hit,
            icon="address-book",
            order=20,
            prepare=lambda qs: qs.select_related("customer"),
        )
    )
