"""Delivery channels and deliveries: who may manage which channel, the writes on channels
(audited, secrets never in the trail), which channels a notification goes through, and one
attempt at sending a delivery with its outcome in the log."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import KombuError

from tuoke.core import audit
from tuoke.core import services as core_services
from tuoke.core.errors import ErrorCode, field_error
from tuoke.core.models import Action, AuditEntry, Notification, Scope
from tuoke.core.scope import scope_of
from tuoke.org.models import OrgUnit

from . import robots, secrets
from .models import Delivery, DeliveryChannel

if TYPE_CHECKING:
    from tuoke.org.models import User

logger = logging.getLogger(__name__)

Kind = DeliveryChannel.Kind
ROBOT_KINDS = (Kind.WECOM, Kind.DINGTALK)

# A delivery is tried at most this often; after a failed attempt n, the next one waits
# RETRY_DELAYS[n - 1] seconds (1 min, 5 min, 15 min, 1 h).
MAX_ATTEMPTS = 5
RETRY_DELAYS = (60, 300, 900, 3600)
SECRET_SHOWN = "••••••"
# A delivery not tried this long after it was made lost its job (the broker was down).
LOST_AFTER_MINUTES = 10


def retry_delay(attempts: int) -> int:
    return RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]


# --- Who manages what -------------------------------------------------------------------------


def is_delivery_admin(user: User) -> bool:
    """Administrators (a grant on delivery channels for all records) manage every unit's
    robots and read the whole delivery log."""
    return scope_of(user, DeliveryChannel.record_type, Action.EDIT) == Scope.ALL


def managed_units(user: User) -> QuerySet[OrgUnit]:
    """The units whose group robots ``user`` may manage: all for administrators; otherwise
    those his delivery-channel grants reach and those he manages (with the units below)."""
    scope = scope_of(user, DeliveryChannel.record_type, Action.EDIT)
    if scope == Scope.ALL:
        return OrgUnit.objects.all()
    condition = Q(pk__in=[])
    if scope > Scope.NONE:
        condition |= OrgUnit.scope_q(user, scope)
    for path in OrgUnit.objects.filter(manager=user).values_list("path", flat=True):
        condition |= Q(path__startswith=path)
    return OrgUnit.objects.filter(condition)


def may_manage_unit(user: User, unit: OrgUnit) -> bool:
    """As ``managed_units`` for one unit, in one query (none for administrators)."""
    scope = scope_of(user, DeliveryChannel.record_type, Action.EDIT)
    if scope == Scope.ALL:
        return True
    # Does he manage the unit or one above it ("0001.", "0001.0004." for "0001.0004."), or
    # do his grants reach it?
    parts = unit.path.split(".")[:-1]
    above = [".".join(parts[: i + 1]) + "." for i in range(len(parts))]
    condition = Q(path__in=above, manager=user)
    if scope > Scope.NONE:
        condition |= OrgUnit.scope_q(user, scope) & Q(pk=unit.pk)
    return OrgUnit.objects.filter(condition).exists()


def channels_for(user: User) -> QuerySet[DeliveryChannel]:
    """The channels ``user`` may see and change: his own and his managed units' robots.
    Nobody else's personal channels, whatever his role."""
    return DeliveryChannel.objects.filter(
        Q(user=user) | Q(unit__in=managed_units(user))
    ).select_related("user", "unit")


def managed_unit(user: User, pk: Any) -> OrgUnit | None:
    """One of the units whose group robots ``user`` may manage, else None."""
    try:
        return managed_units(user).filter(pk=pk).first()
    except (ValueError, TypeError):
        return None


def own_robots(user: User) -> QuerySet[DeliveryChannel]:
    """His own WeCom and DingTalk robots (his e-mail channel is switched on and off apart)."""
    return DeliveryChannel.objects.filter(user=user, kind__in=ROBOT_KINDS)


def get_channel_for(user: User, pk: Any) -> DeliveryChannel:
    """One of the channels ``user`` may manage, else Http404."""
    try:
        return channels_for(user).get(pk=pk)
    except (DeliveryChannel.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def unit_robots_reaching(user: User) -> QuerySet[DeliveryChannel]:
    """His unit's active group robots: they @mention him too (names shown, nothing else)."""
    if user.unit_id is None:
        return DeliveryChannel.objects.none()
    return DeliveryChannel.objects.filter(unit_id=user.unit_id, active=True)


def email_channel_of(user: User) -> DeliveryChannel | None:
    return DeliveryChannel.objects.filter(user=user, kind=Kind.EMAIL).first()


def deliveries_for(user: User) -> QuerySet[Delivery]:
    """The delivery log ``user`` may read: all of it for administrators, else the deliveries
    of his own notifications."""
    deliveries = Delivery.objects.select_related(
        "notification", "notification__recipient", "channel", "channel__unit"
    )
    if is_delivery_admin(user):
        return deliveries
    return deliveries.filter(notification__recipient=user)


# --- Writes on channels -----------------------------------------------------------------------


def _check_holder(by: User, *, user: User | None, unit: OrgUnit | None, kind: str) -> None:
    if (user is None) == (unit is None):
        raise field_error(
            "unit", _("A channel belongs to one person or to one unit."), ErrorCode.INVALID
        )
    if user is not None and user.pk != by.pk:
        raise field_error("user", _("You can only add channels for yourself."), ErrorCode.FORBIDDEN)
    if unit is not None:
        if kind == Kind.EMAIL:
            raise field_error(
                "kind", _("E-mail goes to a person, not to a unit."), ErrorCode.INVALID
            )
        if not may_manage_unit(by, unit):
            raise field_error(
                "unit",
                _("Select a valid choice. That choice is not one of the available choices."),
                ErrorCode.INVALID,
            )


def _check_robot(kind: str, webhook_url: str, secret: str | None) -> str:
    """The webhook address cleaned; errors name ``webhook_url`` or ``secret``."""
    webhook_url = (webhook_url or "").strip()
    if kind == Kind.EMAIL:
        if webhook_url:
            raise field_error(
                "webhook_url", _("An e-mail channel has no webhook address."), ErrorCode.INVALID
            )
        if secret:
            raise field_error(
                "secret", _("Only a DingTalk robot has a signing secret."), ErrorCode.INVALID
            )
        return ""
    if not webhook_url:
        raise field_error("webhook_url", _("This field is required."), ErrorCode.REQUIRED)
    if len(webhook_url) > 500:
        raise field_error(
            "webhook_url",
            _("Ensure this value has at most %(max)s characters.") % {"max": 500},
            ErrorCode.INVALID,
        )
    try:
        robots.check_webhook_url(webhook_url)
    except robots.DeliveryError as exc:
        raise field_error("webhook_url", str(exc), ErrorCode.INVALID) from exc
    if secret and kind != Kind.DINGTALK:
        raise field_error(
            "secret", _("Only a DingTalk robot has a signing secret."), ErrorCode.INVALID
        )
    if secret is not None and len(secret) > 200:
        raise field_error(
            "secret",
            _("Ensure this value has at most %(max)s characters.") % {"max": 200},
            ErrorCode.INVALID,
        )
    return webhook_url


def _audit_secret(channel: DeliveryChannel, *, by: User | None, had: bool, has: bool) -> None:
    audit.record(
        channel,
        kind=AuditEntry.Kind.UPDATE,
        actor=by,
        changes=[
            {
                "field": "secret",
                "label": str(_("Signing secret")),
                "old": SECRET_SHOWN if had else "",
                "new": SECRET_SHOWN if has else "",
            }
        ],
    )


@transaction.atomic
def create_channel(
    *,
    by: User,
    kind: str,
    name: str = "",
    user: User | None = None,
    unit: OrgUnit | None = None,
    webhook_url: str = "",
    secret: str = "",
    active: bool = True,
) -> DeliveryChannel:
    """Add a channel for ``by`` himself (``user``) or for a unit he manages (``unit``)."""
    if kind not in Kind.values:
        raise field_error(
            "kind",
            _("Select a valid choice. That choice is not one of the available choices."),
            ErrorCode.INVALID,
        )
    _check_holder(by, user=user, unit=unit, kind=kind)
    webhook_url = _check_robot(kind, webhook_url, secret)
    if kind == Kind.EMAIL and user is not None and email_channel_of(user) is not None:
        raise field_error("kind", _("You already have an e-mail channel."), ErrorCode.DUPLICATE)
    channel = core_services.create_record(
        DeliveryChannel,
        by=by,
        kind=kind,
        name=(name or "").strip()[:100],
        user=user,
        unit=unit,
        webhook_url=webhook_url,
        active=active,
    )
    if secret:
        DeliveryChannel.objects.filter(pk=channel.pk).update(
            secret_encrypted=secrets.encrypt(secret)
        )
        channel.secret_encrypted = secrets.encrypt(secret)
        _audit_secret(channel, by=by, had=False, has=True)
    return channel


@transaction.atomic
def update_channel(
    channel: DeliveryChannel,
    *,
    by: User,
    expected_version: int | None = None,
    name: str | None = None,
    webhook_url: str | None = None,
    secret: str | None = None,
    active: bool | None = None,
) -> DeliveryChannel:
    """Change a channel; ``secret`` None keeps the stored one, "" removes it. The kind and
    the holder stay (delete and add another channel instead)."""
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = name.strip()[:100]
    if webhook_url is not None:
        changes["webhook_url"] = _check_robot(channel.kind, webhook_url, secret)
    elif secret:
        _check_robot(channel.kind, channel.webhook_url, secret)
    if active is not None:
        changes["active"] = active
    channel = core_services.update_record(
        channel, by=by, expected_version=expected_version, **changes
    )
    had = bool(channel.secret_encrypted)
    if (
        secret is not None
        and (secret or had)
        and secret != secrets.decrypt(channel.secret_encrypted)
    ):
        stored = secrets.encrypt(secret)
        DeliveryChannel.objects.filter(pk=channel.pk).update(
            secret_encrypted=stored,
            updated_by=by,
            updated_at=timezone.now(),
            version=F("version") + 1,
        )
        channel.refresh_from_db(fields=["secret_encrypted", "version", "updated_at"])
        _audit_secret(channel, by=by, had=had, has=bool(secret))
    return channel


@transaction.atomic
def delete_channel(channel: DeliveryChannel, *, by: User) -> None:
    """Into the recycle bin; its past deliveries stay in the log."""
    core_services.soft_delete(channel, by=by)


@transaction.atomic
def set_email_notifications(user: User, *, enabled: bool, by: User) -> DeliveryChannel | None:
    """Switch the user's e-mail copies of his notifications on or off."""
    channel = email_channel_of(user)
    if enabled and not user.email:
        raise field_error(
            "email",
            _("Enter your e-mail address in your profile first."),
            ErrorCode.REQUIRED,
        )
    if channel is None:
        if not enabled:
            return None
        return create_channel(by=by, kind=Kind.EMAIL, user=user, name=_("E-mail"))
    if channel.active != enabled:
        channel = update_channel(channel, by=by, active=enabled)
    return channel


# --- Deliveries -------------------------------------------------------------------------------


def plan_deliveries(
    notifications: Sequence[Notification], units: dict[int, int | None]
) -> list[Delivery]:
    """One pending delivery per notification and active channel of its recipient (his own,
    and his unit's group robots), the same robot address once. ``units``: recipient id →
    his unit id. Two queries whatever the number of notifications."""
    if not notifications:
        return []
    recipients = {n.recipient_id for n in notifications}
    unit_ids = {u for u in units.values() if u is not None}
    channels = list(
        DeliveryChannel.objects.filter(active=True).filter(
            Q(user_id__in=recipients) | Q(unit_id__in=unit_ids)
        )
    )
    deliveries = []
    for notification in notifications:
        unit_id = units.get(notification.recipient_id)
        seen: set[tuple[str, str]] = set()
        for channel in channels:
            if channel.user_id != notification.recipient_id and (
                unit_id is None or channel.unit_id != unit_id
            ):
                continue
            key = (channel.kind, channel.webhook_url)
            if key in seen:
                continue
            seen.add(key)
            deliveries.append(
                Delivery(notification=notification, channel=channel, kind=channel.kind)
            )
    return Delivery.objects.bulk_create(deliveries)


def _enqueue(delivery_id: int) -> None:
    from .tasks import deliver

    try:
        deliver.delay(delivery_id)
    except KombuError:
        # The broker is down: the record that notified is saved all the same, and the
        # delivery stays pending until requeue_lost_deliveries picks it up.
        logger.exception("Delivery %s could not be queued; it will be queued again", delivery_id)


def queue_deliveries(deliveries: Iterable[Delivery]) -> None:
    """Send each delivery in a job once the transaction that made it commits."""
    for delivery in deliveries:
        transaction.on_commit(partial(_enqueue, delivery.pk))


def requeue_lost_deliveries(*, older_than_minutes: int = LOST_AFTER_MINUTES) -> int:
    """Queue again the pending deliveries never attempted ``older_than_minutes`` after they
    were made (a retry waiting for its time has attempts > 0 and is left alone)."""
    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    lost = list(
        Delivery.objects.filter(
            status=Delivery.Status.PENDING, attempts=0, created_at__lt=cutoff
        ).values_list("pk", flat=True)[:1000]
    )
    for pk in lost:
        _enqueue(pk)
    return len(lost)


def attempt_delivery(delivery_id: int, *, retry: bool = True) -> Delivery | None:
    """Try one delivery once, and log the outcome: sent; or the error, with the delivery
    still pending while attempts are left (``retry``), failed after the last one. A delivery
    no longer pending (sent meanwhile, or gone) is left alone: None."""
    delivery = (
        Delivery.objects.select_related("notification__recipient", "channel")
        .filter(pk=delivery_id, status=Delivery.Status.PENDING)
        .first()
    )
    if delivery is None:
        return None
    try:
        robots.send(delivery)
    except robots.DeliveryError as exc:
        delivery.attempts += 1
        delivery.last_error = str(exc)[: robots.ERROR_LENGTH]
        if not retry or delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = Delivery.Status.FAILED
    else:
        delivery.attempts += 1
        delivery.status = Delivery.Status.SENT
        delivery.sent_at = timezone.now()
    delivery.save(update_fields=["attempts", "last_error", "status", "sent_at"])
    return delivery


def send_test(channel: DeliveryChannel, *, by: User) -> Delivery:
    """Send a test message through ``channel`` now (one attempt, no retry), mentioning
    ``by``; it is logged like any delivery and its notification is already read."""
    with transaction.atomic():
        notification = Notification.objects.create(
            recipient=by,
            kind="test",
            title=_("Test message"),
            body=_("If you read this, “%(channel)s” delivers Tuoke's notifications.")
            % {"channel": channel},
            url="",
            actor=by,
            read_at=timezone.now(),
        )
        delivery = Delivery.objects.create(
            notification=notification, channel=channel, kind=channel.kind
        )
    outcome = attempt_delivery(delivery.pk, retry=False)
    return outcome or delivery
