"""Template helpers of the opportunity pages: the customer's opportunities on his page
(``sales/opportunity_customer_card.html``)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.simple_tag
def customer_opportunities(customer, user) -> dict:
    from ..views_records import customer_card

    if customer is None or getattr(customer, "pk", None) is None:
        return {"shown": False}
    return customer_card(customer, user)
