"""Template helpers of notifications: the account page's channel card, masked addresses,
and whether someone manages a unit's group robots (the unit page's link)."""

from django import template

from tuoke.integrations import services
from tuoke.integrations.secrets import mask_url

register = template.Library()


@register.inclusion_tag("integrations/_my_channels.html", takes_context=True)
def my_notification_channels(context):
    """The account page's "Notifications" card: e-mail on or off, his own robots, his unit's
    robots that mention him, and a way to his units' robots if he manages any."""
    request = context["request"]
    user = request.user
    return {
        "request": request,
        "user": user,
        "csrf_token": context.get("csrf_token"),
        "email_channel": services.email_channel_of(user),
        "own": list(services.own_robots(user)),
        "unit_robots": list(services.unit_robots_reaching(user)),
        "manages_units": services.managed_units(user).exists(),
    }


@register.filter
def masked(url: str) -> str:
    return mask_url(url)


@register.filter
def manages_robots_of(user, unit) -> bool:
    return bool(user and user.is_authenticated and unit and services.may_manage_unit(user, unit))
