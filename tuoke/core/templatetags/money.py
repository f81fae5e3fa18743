"""Money in templates: ``{% load money %}{{ contract.amount|money:contract.currency }}`` →
"¥1,234,567.00"; ``{{ total|money_large }}`` → "123.5万" (zh) / "1.23M" (en). Without a
currency the reporting currency is meant."""

from django import template

from tuoke.core import money as money_lib

register = template.Library()


@register.filter
def money(amount, currency=None):
    return money_lib.format_money(amount, currency or None)


@register.filter
def money_large(amount, currency=None):
    return money_lib.format_large(amount, currency or None)


@register.simple_tag
def reporting_currency():
    return money_lib.reporting_currency()
