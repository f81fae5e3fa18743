"""Notification pages (the bell, the list, marking read) and delivery-channel settings
(a person's own channels, units' group robots, test messages, the delivery log)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tuoke.core import notifications
from tuoke.core.errors import Conflict
from tuoke.core.views import add_service_error, is_htmx, next_url, paginate

from . import services
from .forms import RobotForm
from .models import Delivery, DeliveryChannel

BELL_LIMIT = 8
# The bells of web/base.html (the top bar's and the phone's); one request fills both counts.
BELL_IDS = ("bell", "bell-mobile")
# Sent with every answer that changes what is unread: the bell's count listens for it.
CHANGED_EVENT = "tuoke:notifications-changed"


# --- Notifications ----------------------------------------------------------------------------


@login_required
def notification_list(request):
    """All the user's notifications, newest first; ``?unread=1`` only those not read."""
    unread_only = request.GET.get("unread") == "1"
    found = notifications.for_user(request.user)
    if unread_only:
        found = found.filter(read_at__isnull=True)
    return render(
        request,
        "integrations/notification_list.html",
        {
            "page_obj": paginate(request, found),
            "unread_only": unread_only,
            "unread_count": notifications.unread_count(request.user),
        },
    )


@login_required
def bell_count(request):
    """The bells' badges (htmx, on load and every minute)."""
    return render(
        request,
        "integrations/_bell_count.html",
        {"count": notifications.unread_count(request.user), "bell_ids": BELL_IDS},
    )


@login_required
def bell_menu(request):
    """The bell's dropdown (htmx, when it opens): the latest notifications."""
    return render(
        request,
        "integrations/_bell_menu.html",
        {
            "items": notifications.recent(request.user, BELL_LIMIT),
            "count": notifications.unread_count(request.user),
        },
    )


def _safe_link(request, url: str) -> str:
    """A notification's link, if it stays inside Tuoke."""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return url
    return reverse("notifications:list")


@login_required
@require_http_methods(["GET", "POST"])
def notification_open(request, pk: int):
    """Follow a notification to its record, marking it read on the way."""
    notification = notifications.get_for_user(request.user, pk)
    notifications.mark_read(request.user, [notification.pk])
    return redirect(_safe_link(request, notification.url))


@login_required
@require_POST
def notification_read(request, pk: int):
    notification = notifications.get_for_user(request.user, pk)
    notifications.mark_read(request.user, [notification.pk])
    return redirect(next_url(request, reverse("notifications:list")))


@login_required
@require_POST
def notification_read_all(request):
    marked = notifications.mark_read(request.user)
    if is_htmx(request):
        response = bell_menu(request)
        response["HX-Trigger"] = CHANGED_EVENT
        return response
    if marked:
        messages.success(request, _("All notifications are marked read."))
    return redirect(next_url(request, reverse("notifications:list")))


# --- Channels ---------------------------------------------------------------------------------


@login_required
def channel_list(request):
    """The user's own channels and the group robots of the units he manages; ``?unit=``
    narrows to one unit (from the unit's page)."""
    user = request.user
    units = services.managed_units(user).order_by("path")
    unit = None
    if request.GET.get("unit"):
        unit = services.managed_unit(user, request.GET["unit"])
        if unit is None:
            raise Http404
    unit_channels = (
        services.channels_for(user).filter(unit__isnull=False).order_by("unit__path", "kind", "pk")
    )
    if unit is not None:
        unit_channels = unit_channels.filter(unit=unit)
        units = units.filter(pk=unit.pk)
    by_unit: dict[int, list[DeliveryChannel]] = {}
    for channel in unit_channels:
        by_unit.setdefault(channel.unit_id, []).append(channel)
    groups = [(u, by_unit.get(u.pk, [])) for u in units[:200]]
    return render(
        request,
        "integrations/channel_list.html",
        {
            "own": services.own_robots(user),
            "groups": groups,
            "unit": unit,
        },
    )


def _holder_from(request):
    """The unit a new robot is for (``?unit=``, one he manages) or None for himself."""
    raw = request.POST.get("unit") or request.GET.get("unit") or ""
    if not raw:
        return None
    unit = services.managed_unit(request.user, raw)
    if unit is None:
        raise Http404
    return unit


@login_required
def channel_create(request):
    unit = _holder_from(request)
    default_next = (
        f"{reverse('notifications:channels')}?unit={unit.pk}" if unit else reverse("account")
    )
    initial = {"kind": request.GET.get("kind", DeliveryChannel.Kind.WECOM), "active": True}
    form = RobotForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.create_channel(
                by=request.user,
                kind=data["kind"],
                name=data["name"],
                user=None if unit else request.user,
                unit=unit,
                webhook_url=data["webhook_url"],
                secret=data.get("secret", ""),
                active=data["active"],
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("The robot was added. Send a test message to try it."))
            return redirect(next_url(request, default_next))
    return render(
        request,
        "integrations/channel_form.html",
        {"form": form, "unit": unit, "cancel": next_url(request, default_next)},
    )


def _back_from(request, channel: DeliveryChannel) -> str:
    if channel.unit_id:
        default = f"{reverse('notifications:channels')}?unit={channel.unit_id}"
    else:
        default = reverse("account")
    return next_url(request, default)


@login_required
def channel_edit(request, pk: int):
    channel = services.get_channel_for(request.user, pk)
    if channel.kind == DeliveryChannel.Kind.EMAIL:
        raise Http404  # switched on and off on the account page, nothing to edit
    initial = {"name": channel.name, "active": channel.active, "version": channel.version}
    form = RobotForm(request.POST or None, initial=initial, channel=channel)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        secret = data.get("secret") or None
        if data.get("clear_secret"):
            secret = ""
        try:
            services.update_channel(
                channel,
                by=request.user,
                expected_version=data.get("version"),
                name=data["name"],
                webhook_url=data["webhook_url"] or None,
                secret=secret,
                active=data["active"],
            )
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("The robot was saved."))
            return redirect(_back_from(request, channel))
    return render(
        request,
        "integrations/channel_form.html",
        {
            "form": form,
            "channel": channel,
            "unit": channel.unit,
            "cancel": _back_from(request, channel),
        },
    )


@login_required
def channel_delete(request, pk: int):
    channel = services.get_channel_for(request.user, pk)
    if request.method == "POST":
        services.delete_channel(channel, by=request.user)
        messages.success(request, _("“%(name)s” was removed.") % {"name": channel})
        return redirect(_back_from(request, channel))
    return render(
        request,
        "integrations/channel_delete.html",
        {"channel": channel, "cancel": _back_from(request, channel)},
    )


@login_required
@require_POST
def channel_test(request, pk: int):
    """Send a test message through the channel now and say how it went."""
    channel = services.get_channel_for(request.user, pk)
    delivery = services.send_test(channel, by=request.user)
    if delivery.status == Delivery.Status.SENT:
        messages.success(
            request, _("The test message was sent through “%(name)s”.") % {"name": channel}
        )
    else:
        messages.error(
            request,
            _("The test message could not be sent through “%(name)s”: %(error)s")
            % {"name": channel, "error": delivery.last_error},
        )
    return redirect(_back_from(request, channel))


@login_required
@require_POST
def email_toggle(request):
    """Switch e-mail copies of the user's notifications on or off."""
    enabled = request.POST.get("enabled") == "1"
    try:
        services.set_email_notifications(request.user, enabled=enabled, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("Notifications are also sent to %(email)s.") % {"email": request.user.email}
            if enabled
            else _("Notifications are no longer sent by e-mail."),
        )
    return redirect(next_url(request, reverse("account")))


# --- Delivery log -----------------------------------------------------------------------------


@login_required
def delivery_list(request):
    """The delivery log: administrators see every delivery, others those of their own
    notifications; ``?status=`` narrows it."""
    user = request.user
    found = services.deliveries_for(user)
    status = request.GET.get("status", "")
    if status in Delivery.Status.values:
        found = found.filter(status=status)
    else:
        status = ""
    return render(
        request,
        "integrations/delivery_list.html",
        {
            "page_obj": paginate(request, found),
            "status": status,
            "statuses": Delivery.Status.choices,
            "everyone": services.is_delivery_admin(user),
        },
    )
