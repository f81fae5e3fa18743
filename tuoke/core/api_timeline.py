"""The API of record timelines: a customer's events newest first, filtered by kind and paged
by a cursor (tuoke.core.timeline)."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from tuoke.customers.models import Customer

from . import timeline
from .api import ERRORS, RecordId, Text
from .errors import ErrorCode, field_error
from .scope import get_for

router = Router(tags=["Timeline"])


class ActorOut(Schema):
    id: int
    username: str
    display_name: str


class EventOut(Schema):
    id: str = Field(description="The kind and the record's id", examples=["follow_up:812"])
    at: datetime
    kind: str = Field(description="The source of the event, one of `kinds`", examples=["follow_up"])
    kind_label: str = Field(examples=["跟进"])
    icon: str = Field(description="A Tabler icon name", examples=["phone"])
    title: str = Field(examples=["电话"])
    body: str = Field(
        description="HTML (what users wrote is escaped)",
        examples=['<div class="text-break"><p>确认了报价，下周二上门演示。</p></div>'],
    )
    actor: ActorOut | None = Field(description="Who did it; null for the system")
    url: str = Field(description="The page of the record behind the event, if it has one")


class KindOut(Schema):
    key: str = Field(examples=["follow_up"])
    label: str = Field(examples=["跟进记录"])
    icon: str


class TimelineOut(Schema):
    items: list[EventOut]
    next: str | None = Field(
        description="Pass as `before` for the next (older) page; null on the last page",
        examples=["1732257000000000~follow_up~812"],
    )
    kinds: list[KindOut] = Field(description="The kinds the caller may filter by")


class TimelineFilters(Schema):
    kinds: list[Text] = Field(
        default_factory=list,
        description="Only these kinds (repeat the parameter or separate by commas); all when empty",
    )
    before: Text | None = Field(
        None, max_length=100, description="The `next` of the previous page", examples=[None]
    )
    limit: int = Field(
        timeline.PAGE_SIZE, ge=1, le=timeline.MAX_PAGE_SIZE, description="Events per page"
    )


def _actor(person) -> dict | None:
    if person is None:
        return None
    return {
        "id": person.pk,
        "username": person.username,
        "display_name": str(person),
    }


@router.get("/customers/{customer_id}/timeline", response={200: TimelineOut, **ERRORS})
def customer_timeline(request: HttpRequest, customer_id: RecordId, filters: Query[TimelineFilters]):
    """The customer's follow-ups, visits, comments, status and owner changes, other changes and
    contacts added, newest first; each as the caller's data scope allows. A customer out of
    scope is 404."""
    customer = get_for(request.user, Customer, customer_id)
    known = {s.key for s in timeline.sources("customer")}
    kinds = timeline.parse_kinds(filters.kinds)
    unknown = [k for k in kinds if k not in known]
    if unknown:
        raise field_error(
            "kinds",
            _("Unknown kind: %(kinds)s. Choose from %(known)s.")
            % {"kinds": ", ".join(unknown), "known": ", ".join(sorted(known))},
            ErrorCode.INVALID,
        )
    before = timeline.cursor_from(filters.before)
    found = timeline.page(customer, request.user, kinds=kinds, before=before, limit=filters.limit)
    return {
        "items": [
            {
                "id": event.id,
                "at": event.at,
                "kind": event.kind,
                "kind_label": event.kind_label,
                "icon": event.icon,
                "title": event.title,
                "body": str(event.body),
                "actor": _actor(event.actor),
                "url": event.url,
            }
            for event in found.events
        ],
        "next": found.next_cursor,
        "kinds": [{"key": s.key, "label": str(s.label), "icon": s.icon} for s in found.kinds],
    }
