"""The API of notifications (the caller's own: list, unread count, mark read), delivery
channels (his own and his units' robots; addresses masked, secrets write-only) and the
delivery log."""

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from tuoke.core import notifications
from tuoke.core.api import (
    ERRORS,
    WRITE_ERRORS,
    PagePagination,
    PersonRef,
    RecordId,
    Ref,
    Text,
    VersionedPatch,
    sent,
)
from tuoke.core.errors import ErrorCode, field_error, fields_renamed
from tuoke.core.models import Notification
from tuoke.org.models import User

from . import services
from .models import Delivery, DeliveryChannel
from .secrets import mask_url

router = Router(tags=["Notifications"])

ChannelKind = Literal["email", "wecom", "dingtalk"]

# --- Schemas ----------------------------------------------------------------------------------


class NotificationOut(Schema):
    id: int
    kind: str = Field(description="What it is about, e.g. `mention`, `task`", examples=["mention"])
    title: str = Field(examples=["王经理在“腾达精密”提到了你"])
    body: str = Field(examples=["@张伟 请今天回电确认报价"])
    url: str = Field(description="Link to the record inside Tuoke", examples=["/customers/7/"])
    actor: PersonRef | None = Field(description="Who caused it; null for the system")
    created_at: datetime
    read_at: datetime | None
    unread: bool

    @staticmethod
    def resolve_unread(notification: Notification) -> bool:
        return notification.read_at is None


class NotificationFilters(Schema):
    unread: bool | None = Field(None, description="true: only unread; false: only read")


class UnreadCountOut(Schema):
    count: int = Field(examples=[3])


class MarkedOut(Schema):
    marked: int = Field(description="How many notifications were unread and are now read")


class ChannelOut(Schema):
    id: int
    kind: ChannelKind
    name: str = Field(examples=["华东销售群"])
    user_id: int | None = Field(description="The person it belongs to (own channels)")
    unit: Ref | None = Field(description="The unit it belongs to (group robots)")
    webhook_url_masked: str = Field(
        description="The webhook address, masked: the key in it is a secret and never shown",
        examples=["https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…a1b2"],
    )
    has_secret: bool = Field(description="A DingTalk signing secret is stored (never shown)")
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_webhook_url_masked(channel: DeliveryChannel) -> str:
        return mask_url(channel.webhook_url)

    @staticmethod
    def resolve_has_secret(channel: DeliveryChannel) -> bool:
        return bool(channel.secret_encrypted)

    @staticmethod
    def resolve_unit(channel: DeliveryChannel) -> dict | None:
        return {"id": channel.unit.pk, "name": channel.unit.name} if channel.unit else None


class ChannelCreate(Schema):
    kind: ChannelKind = Field(examples=["dingtalk"])
    name: Text = Field("", max_length=100, examples=["华东销售群"])
    unit_id: RecordId | None = Field(
        None, description="A unit you manage, for its group robot; without it the channel is yours"
    )
    webhook_url: Text = Field(
        "",
        max_length=500,
        description="Required for robots; write-only",
        examples=["https://oapi.dingtalk.com/robot/send?access_token=…"],
    )
    secret: Text = Field(
        "",
        max_length=200,
        description="DingTalk signing secret (SEC…); write-only",
        json_schema_extra={"writeOnly": True},
    )
    active: bool = True


class ChannelPatch(VersionedPatch):
    name: Text | None = Field(None, max_length=100)
    webhook_url: Text | None = Field(None, max_length=500, description="Write-only")
    secret: Text | None = Field(
        None,
        max_length=200,
        description="Write-only; an empty string removes it",
        json_schema_extra={"writeOnly": True},
    )
    active: bool | None = None


class ChannelRef(Schema):
    id: int
    kind: ChannelKind
    name: str

    @staticmethod
    def resolve_name(channel: DeliveryChannel) -> str:
        return str(channel)


class DeliveryOut(Schema):
    id: int
    notification_id: int
    title: str = Field(description="The notification's title")
    recipient: PersonRef
    channel: ChannelRef | None = Field(description="Null once the channel was purged")
    kind: ChannelKind
    status: Literal["pending", "sent", "failed"]
    attempts: int
    last_error: str = Field(examples=["errcode 310000: sign not match"])
    created_at: datetime
    sent_at: datetime | None

    @staticmethod
    def resolve_title(delivery: Delivery) -> str:
        return delivery.notification.title

    @staticmethod
    def resolve_recipient(delivery: Delivery) -> User:
        return delivery.notification.recipient


class DeliveryFilters(Schema):
    status: Literal["pending", "sent", "failed"] | None = None


# --- Notifications ----------------------------------------------------------------------------


@router.get("/notifications", response={200: list[NotificationOut], **ERRORS})
@paginate(PagePagination)
def list_notifications(request: HttpRequest, filters: Query[NotificationFilters]):
    """Your notifications, newest first; `?unread=true` for those not read yet. Nobody
    else's are ever listed."""
    found = notifications.for_user(request.user)
    if filters.unread is not None:
        found = found.filter(read_at__isnull=filters.unread)
    return found


@router.get("/notifications/unread-count", response={200: UnreadCountOut, **ERRORS})
def unread_count(request: HttpRequest):
    """The bell's number."""
    return {"count": notifications.unread_count(request.user)}


@router.post("/notifications/read-all", response={200: MarkedOut, **WRITE_ERRORS})
def read_all(request: HttpRequest):
    """Mark all your notifications read."""
    return {"marked": notifications.mark_read(request.user)}


@router.get("/notifications/{notification_id}", response={200: NotificationOut, **ERRORS})
def get_notification(request: HttpRequest, notification_id: RecordId):
    """One of your notifications; another person's is 404."""
    return notifications.get_for_user(request.user, notification_id)


@router.post(
    "/notifications/{notification_id}/read", response={200: NotificationOut, **WRITE_ERRORS}
)
def read_notification(request: HttpRequest, notification_id: RecordId):
    """Mark one of your notifications read (again is fine); another person's is 404."""
    notification = notifications.get_for_user(request.user, notification_id)
    notifications.mark_read(request.user, [notification.pk])
    return notifications.get_for_user(request.user, notification_id)


# --- Channels ---------------------------------------------------------------------------------


@router.get("/delivery-channels", response={200: list[ChannelOut], **ERRORS})
@paginate(PagePagination)
def list_channels(request: HttpRequest):
    """Your own channels (e-mail, your robots) and the group robots of the units you manage
    (administrators: every unit)."""
    return services.channels_for(request.user).order_by("unit_id", "kind", "pk")


@router.post("/delivery-channels", response={201: ChannelOut, **WRITE_ERRORS})
def create_channel(request: HttpRequest, payload: ChannelCreate):
    """Add an e-mail channel or a robot for yourself, or a group robot for a unit you manage
    (`unit_id`). A DingTalk robot with "sign" security needs its `secret`."""
    unit = None
    if payload.unit_id is not None:
        unit = services.managed_unit(request.user, payload.unit_id)
        if unit is None:
            raise field_error(
                "unit_id",
                _("Select a valid choice. That choice is not one of the available choices."),
                ErrorCode.INVALID,
            )
    with fields_renamed({"unit": "unit_id"}):
        channel = services.create_channel(
            by=request.user,
            kind=payload.kind,
            name=payload.name,
            user=None if unit else request.user,
            unit=unit,
            webhook_url=payload.webhook_url,
            secret=payload.secret,
            active=payload.active,
        )
    return Status(201, services.get_channel_for(request.user, channel.pk))


@router.get("/delivery-channels/{channel_id}", response={200: ChannelOut, **ERRORS})
def get_channel(request: HttpRequest, channel_id: RecordId):
    return services.get_channel_for(request.user, channel_id)


@router.patch("/delivery-channels/{channel_id}", response={200: ChannelOut, **WRITE_ERRORS})
def update_channel(request: HttpRequest, channel_id: RecordId, payload: ChannelPatch):
    """Change the fields sent; `version` must be the one you read (409 otherwise). A secret
    sent as "" is removed."""
    channel = services.get_channel_for(request.user, channel_id)
    changes = sent(payload, nullable={"name", "webhook_url", "secret", "active"})
    services.update_channel(channel, by=request.user, expected_version=payload.version, **changes)
    return services.get_channel_for(request.user, channel_id)


@router.delete("/delivery-channels/{channel_id}", response={204: None, **WRITE_ERRORS})
def delete_channel(request: HttpRequest, channel_id: RecordId):
    """Move the channel to the recycle bin; its deliveries stay in the log."""
    channel = services.get_channel_for(request.user, channel_id)
    services.delete_channel(channel, by=request.user)
    return Status(204, None)


@router.post("/delivery-channels/{channel_id}/test", response={200: DeliveryOut, **WRITE_ERRORS})
def test_channel(request: HttpRequest, channel_id: RecordId):
    """Send a test message through the channel now (one attempt, mentioning you); the answer
    is its delivery: `sent`, or `failed` with the robot's error."""
    channel = services.get_channel_for(request.user, channel_id)
    delivery = services.send_test(channel, by=request.user)
    return services.deliveries_for(request.user).get(pk=delivery.pk)


# --- Delivery log -----------------------------------------------------------------------------


@router.get("/deliveries", response={200: list[DeliveryOut], **ERRORS})
@paginate(PagePagination)
def list_deliveries(request: HttpRequest, filters: Query[DeliveryFilters]):
    """The delivery log, newest first: administrators see every delivery, others those of
    their own notifications; `?status=failed` for what did not go through."""
    found = services.deliveries_for(request.user)
    if filters.status:
        found = found.filter(status=filters.status)
    return found
