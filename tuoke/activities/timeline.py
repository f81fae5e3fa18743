"""The activities' events on a customer's timeline: follow-ups, visits and comments, each
seen as its own data scope allows (registered in ActivitiesConfig.ready)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.db.models import Exists, OuterRef
from django.db.models.functions import Coalesce
from django.utils.html import format_html, linebreaks
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tuoke.core.models import Action
from tuoke.core.scope import can
from tuoke.core.timeline import Event, Source, register, url_or_blank

from .models import Comment, FollowUp, Visit


def _text(value: str) -> str:
    """What a user wrote, escaped, its paragraphs and line breaks kept."""
    # linebreaks escapes the text (autoescape) before it adds its tags.
    return mark_safe(linebreaks(value, autoescape=True)) if value else ""  # noqa: S308


def _line(icon: str, label: str, value: str) -> str:
    return format_html(
        '<div class="small"><i class="ti ti-{} me-1 text-secondary"></i>'
        '<span class="text-secondary">{}:</span> {}</div>',
        icon,
        label,
        value,
    )


def _join(parts: Iterable[str]) -> str:
    return mark_safe("".join(p for p in parts if p))  # noqa: S308 - each part is escaped


def _contacts(contacts) -> str:
    names = [c.name for c in contacts]
    return _line("user", _("Contacts"), "、".join(names)) if names else ""


# --- Follow-ups ---------------------------------------------------------------------------------


def follow_up_keys(customer, user) -> models.QuerySet:
    # A visit's follow-up is shown with its visit.
    of_a_visit = Visit.objects.filter(follow_up=OuterRef("pk"))
    return FollowUp.objects.visible_to(user).filter(customer=customer).exclude(Exists(of_a_visit))


def follow_up_body(follow_up: FollowUp) -> str:
    next_step = ""
    if follow_up.next_step or follow_up.next_step_on:
        when = f" ({follow_up.next_step_on:%Y-%m-%d})" if follow_up.next_step_on else ""
        next_step = _line("arrow-right", _("Next step"), f"{follow_up.next_step or '—'}{when}")
    return _join(
        [
            format_html('<div class="text-break">{}</div>', _text(follow_up.content)),
            _line("flag", _("Result"), follow_up.result) if follow_up.result else "",
            next_step,
            _contacts(follow_up.contacts.all()),
        ]
    )


def load_follow_ups(pks: list[int], user) -> list[Event]:
    rows = (
        FollowUp.objects.filter(pk__in=pks)
        .select_related("owner", "kind")
        .prefetch_related("contacts")
    )
    return [
        Event(
            at=row.happened_at,
            kind="follow_up",
            pk=row.pk,
            title=row.kind.label,
            icon=row.kind.icon,
            body=follow_up_body(row),
            actor=row.owner,
            url=url_or_blank("activities:follow_up_detail", row.pk),
        )
        for row in rows
    ]


# --- Visits -------------------------------------------------------------------------------------


def visit_keys(customer, user) -> models.QuerySet:
    return Visit.objects.visible_to(user).filter(customer=customer)


VISIT_AT = Coalesce("checked_in_at", "planned_at", output_field=models.DateTimeField())


def _visit_title(visit: Visit) -> str:
    if visit.status == Visit.Status.DONE:
        return _("Visited")
    if visit.status == Visit.Status.CANCELLED:
        return _("Visit cancelled")
    return _("Visit planned")


def load_visits(pks: list[int], user) -> list[Event]:
    rows = (
        Visit.objects.filter(pk__in=pks)
        .select_related("owner", "follow_up")
        .prefetch_related("follow_up__contacts")
    )
    events = []
    for visit in rows:
        follow_up = visit.follow_up if visit.follow_up and not visit.follow_up.deleted_at else None
        body = _join(
            [
                _line("target-arrow", _("Purpose"), visit.purpose) if visit.purpose else "",
                _line("map-pin", _("Checked in at"), visit.address) if visit.address else "",
                follow_up_body(follow_up) if follow_up else "",
            ]
        )
        events.append(
            Event(
                at=visit.checked_in_at or visit.planned_at,
                kind="visit",
                pk=visit.pk,
                title=_visit_title(visit),
                color="red" if visit.status == Visit.Status.CANCELLED else "",
                body=body,
                actor=visit.owner,
                url=url_or_blank("activities:visit_detail", visit.pk),
            )
        )
    return events


# --- Comments -----------------------------------------------------------------------------------


def comment_keys(customer, user) -> models.QuerySet:
    return Comment.objects.visible_to(user).filter(customer=customer)


def load_comments(pks: list[int], user) -> list[Event]:
    # The people a comment mentions are in its text (@张伟), as they were written.
    events = []
    for comment in Comment.objects.filter(pk__in=pks).select_related("author"):
        body = format_html('<div class="text-break">{}</div>', _text(comment.body))
        events.append(
            Event(
                at=comment.created_at,
                kind="comment",
                pk=comment.pk,
                title=_("Comment"),
                body=body,
                actor=comment.author,
            )
        )
    return events


def register_sources() -> None:
    register(
        Source(
            key="follow_up",
            label=gettext_lazy("Follow-ups"),
            icon="message",
            color="blue",
            keys=follow_up_keys,
            load=load_follow_ups,
            at="happened_at",
            order=10,
            available=lambda user: can(user, "follow_up", Action.VIEW),
        )
    )
    register(
        Source(
            key="visit",
            label=gettext_lazy("Visits"),
            icon="map-pin",
            color="green",
            keys=visit_keys,
            load=load_visits,
            at=VISIT_AT,
            order=20,
            available=lambda user: can(user, "visit", Action.VIEW),
        )
    )
    register(
        Source(
            key="comment",
            label=gettext_lazy("Comments"),
            icon="message-circle",
            color="azure",
            keys=comment_keys,
            load=load_comments,
            order=30,
            available=lambda user: can(user, "comment", Action.VIEW),
        )
    )
