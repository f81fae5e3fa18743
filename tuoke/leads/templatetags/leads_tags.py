"""Template helpers of the lead pages: phones and amounts as people read them, and where a
customer came from (for ``leads/_customer_origin.html``)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.translation import gettext as _

from tuoke.core.audit import trail_of
from tuoke.core.models import Action
from tuoke.customers.matching import format_phone

from ..models import Lead

register = template.Library()

# How many audit entries of a source lead the customer page summarises.
ORIGIN_TRAIL_ENTRIES = 3


@register.filter
def phone(value: str) -> str:
    """+8613800138000 → 138 0013 8000."""
    return format_phone(value) if value else ""


@register.filter
def cny(value) -> str:
    """1234567 → ¥1,234,567.00; empty for no value."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    return f"¥{amount:,.2f}"


@register.simple_tag
def customer_origin(customer, user) -> list[dict]:
    """The leads a customer was converted from, oldest first: channel, conversion date, and,
    for users who may see the lead, a link and a summary of its audit trail."""
    if customer is None or getattr(customer, "pk", None) is None:
        return []
    leads = list(
        Lead.objects.filter(converted_customer=customer)
        .select_related("channel", "owner", "created_by")
        .order_by("converted_at", "pk")
    )
    if not leads:
        return []
    visible = set(
        Lead.objects.visible_to(user, Action.VIEW)
        .filter(pk__in=[lead.pk for lead in leads])
        .values_list("pk", flat=True)
    )
    origin = []
    for lead in leads:
        row = {
            "lead": lead,
            "channel": lead.channel.name if lead.channel_id else _("no channel"),
            "converted_at": lead.converted_at,
            "acquired_at": lead.created_at,
            "visible": lead.pk in visible,
            "trail": [],
            "trail_count": 0,
        }
        if row["visible"]:
            trail = trail_of(lead)
            row["trail"] = list(trail[:ORIGIN_TRAIL_ENTRIES])
            row["trail_count"] = trail.count()
        origin.append(row)
    return origin
