"""Notifications: what a person should know (he was mentioned, given a task …), under the
bell in the app and sent on through his delivery channels (e-mail, WeCom and DingTalk
robots) by jobs queued when the transaction commits.

Apps call ``notify``; the pages and the API read through ``for_user`` / ``get_for_user``,
so a person only ever sees his own notifications.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from .models import Notification

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from tuoke.org.models import User

TITLE_LENGTH = 200
BODY_LENGTH = 2000
URL_LENGTH = 500
KIND_LENGTH = 30


def _clip(text: Any, length: int) -> str:
    text = str(text or "")
    return text if len(text) <= length else text[: length - 1] + "…"


def notify(
    recipients: Iterable[User | int],
    *,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    actor: User | None = None,
) -> list[Notification]:
    """One in-app notification per distinct, active recipient (never the actor himself),
    and its deliveries through his channels, sent by jobs once the transaction commits.

    ``recipients`` are users or user ids; ``url`` a link inside Tuoke (``/customers/7/``).
    A few queries whatever the number of recipients.
    """
    from tuoke.integrations import services as delivery_services
    from tuoke.org.models import User

    actor_id = actor.pk if actor is not None else None
    wanted: list[int] = []
    for recipient in recipients:
        pk = recipient if isinstance(recipient, int) else recipient.pk
        if pk is not None and pk != actor_id and pk not in wanted:
            wanted.append(pk)
    if not wanted:
        return []
    units = dict(User.objects.filter(pk__in=wanted, is_active=True).values_list("pk", "unit_id"))
    notifications = [
        Notification(
            recipient_id=pk,
            kind=_clip(kind, KIND_LENGTH),
            title=_clip(title, TITLE_LENGTH),
            body=_clip(body, BODY_LENGTH),
            url=str(url or "")[:URL_LENGTH],
            actor=actor,
        )
        for pk in wanted
        if pk in units
    ]
    with transaction.atomic():
        created = Notification.objects.bulk_create(notifications)
        deliveries = delivery_services.plan_deliveries(created, units)
        delivery_services.queue_deliveries(deliveries)
    return created


def for_user(user: User) -> QuerySet[Notification]:
    """The user's own notifications, newest first: the one way to read notifications."""
    return Notification.objects.filter(recipient=user).select_related("actor")


def get_for_user(user: User, pk: Any) -> Notification:
    """One of the user's notifications, else Http404 (another's is never revealed)."""
    try:
        return for_user(user).get(pk=pk)
    except (Notification.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def _unread(user: User) -> QuerySet[Notification]:
    return for_user(user).filter(read_at__isnull=True)


def unread_count(user: User) -> int:
    """The bell's number: one query on the partial index of unread notifications."""
    if not user.is_authenticated:
        return 0
    return _unread(user).count()


def recent(user: User, limit: int = 8) -> list[Notification]:
    """The latest notifications, read or not, for the bell's dropdown."""
    return list(for_user(user)[:limit])


def mark_read(user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's unread notifications read (those of ``ids``, or all with None);
    returns how many changed. Others' ids are ignored."""
    unread = _unread(user)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())
