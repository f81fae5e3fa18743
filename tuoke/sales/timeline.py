"""Opportunities on their customer's timeline: a deal opened, its stage moves, its win or loss
(registered from ``hooks.install``). Each is seen as the opportunity's own data scope allows.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Exists, OuterRef
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tuoke.core.models import Action
from tuoke.core.scope import can
from tuoke.core.timeline import Event, Source, register, url_or_blank

from .models import Opportunity, StageKind, StageVisit

END_KINDS = (StageKind.WON, StageKind.LOST)


def _visible(customer, user) -> models.QuerySet:
    return Opportunity.objects.visible_to(user).filter(customer=customer).values("pk")


def _details(rows: list[tuple[str, str]]) -> str:
    shown = [(label, value) for label, value in rows if value]
    if not shown:
        return ""
    items = format_html_join(
        " · ", '<span class="text-secondary">{}:</span> {}', ((lbl, v) for lbl, v in shown)
    )
    return format_html('<div class="small">{}</div>', items)


def _money(opp: Opportunity) -> str:
    return f"{opp.amount:,.2f} {opp.currency}" if opp.amount is not None else ""


def _url(opp: Opportunity) -> str:
    return url_or_blank("sales:opportunity_detail", opp.pk)


# --- Opened -------------------------------------------------------------------------------------


def opportunity_keys(customer, user) -> models.QuerySet:
    return Opportunity.objects.visible_to(user).filter(customer=customer)


def load_opportunities(pks: list[int], user) -> list[Event]:
    rows = Opportunity.objects.filter(pk__in=pks).select_related("created_by", "owner", "pipeline")
    # The stage it started in: its first visit.
    first = {}
    for opportunity_id, name in (
        StageVisit.objects.filter(opportunity_id__in=pks)
        .order_by("-pk")
        .values_list("opportunity_id", "stage_name")
    ):
        first[opportunity_id] = name
    events = []
    for opp in rows:
        body = _details(
            [
                (_("Stage"), first.get(opp.pk, "")),
                (_("Amount"), _money(opp)),
                (_("Owner"), str(opp.owner)),
            ]
        )
        events.append(
            Event(
                at=opp.created_at,
                kind="opportunity",
                pk=opp.pk,
                title=_("Opportunity created: %(title)s") % {"title": opp.title},
                body=body,
                actor=opp.created_by,
                url=_url(opp),
            )
        )
    return events


# --- Stage moves --------------------------------------------------------------------------------


def stage_move_keys(customer, user) -> models.QuerySet:
    # The first visit is the opportunity's creation, told by the source above.
    earlier = StageVisit.objects.filter(opportunity=OuterRef("opportunity"), pk__lt=OuterRef("pk"))
    return (
        StageVisit.objects.filter(opportunity__in=_visible(customer, user))
        .exclude(stage__kind__in=END_KINDS)
        .filter(Exists(earlier))
    )


def _visits(pks: list[int]) -> tuple[list[StageVisit], dict[int, str]]:
    """The visits with their opportunity, and the name of the stage before each."""
    visits = list(
        StageVisit.objects.filter(pk__in=pks).select_related("opportunity", "by", "stage")
    )
    previous: dict[int, str] = {}
    last: dict[int, str] = {}
    for pk, opportunity_id, name in (
        StageVisit.objects.filter(opportunity_id__in={v.opportunity_id for v in visits})
        .order_by("opportunity_id", "pk")
        .values_list("pk", "opportunity_id", "stage_name")
    ):
        if opportunity_id in last:
            previous[pk] = last[opportunity_id]
        last[opportunity_id] = name
    return visits, previous


def load_stage_moves(pks: list[int], user) -> list[Event]:
    visits, previous = _visits(pks)
    events = []
    for visit in visits:
        opp = visit.opportunity
        title = _("%(title)s: %(old)s → %(new)s") % {
            "title": opp.title,
            "old": previous.get(visit.pk, "—"),
            "new": visit.stage_name,
        }
        body = _details([(_("Win probability"), f"{visit.probability}%")])
        events.append(
            Event(
                at=visit.entered_at,
                kind="stage_move",
                pk=visit.pk,
                title=title,
                body=body,
                actor=visit.by,
                url=_url(opp),
            )
        )
    return events


# --- Won and lost -------------------------------------------------------------------------------


def closed_keys(customer, user) -> models.QuerySet:
    return StageVisit.objects.filter(
        opportunity__in=_visible(customer, user), stage__kind__in=END_KINDS
    )


def load_closed(pks: list[int], user) -> list[Event]:
    visits = (
        StageVisit.objects.filter(pk__in=pks)
        .select_related("opportunity", "opportunity__lost_reason", "by", "stage")
        .order_by("pk")
    )
    events = []
    for visit in visits:
        opp = visit.opportunity
        won = visit.stage.kind == StageKind.WON
        title = (_("Won: %(title)s") if won else _("Lost: %(title)s")) % {"title": opp.title}
        # The reason and note are the opportunity's while it is still closed by this visit.
        current = visit.left_at is None
        reason = opp.lost_reason.name if current and not won and opp.lost_reason else ""
        note = opp.close_note if current else ""
        body = format_html(
            "{}{}",
            _details([(_("Amount"), _money(opp) if won else ""), (_("Lost reason"), reason)]),
            format_html('<div class="small text-secondary text-break">{}</div>', note)
            if note
            else "",
        )
        events.append(
            Event(
                at=visit.entered_at,
                kind="deal_closed",
                pk=visit.pk,
                title=title,
                icon="trophy" if won else "thumb-down",
                color="green" if won else "red",
                body=body,
                actor=visit.by,
                url=_url(opp),
            )
        )
    return events


def register_sources() -> None:
    def sees(user) -> bool:
        return can(user, Opportunity.record_type, Action.VIEW)

    register(
        Source(
            key="opportunity",
            label=gettext_lazy("Opportunities"),
            icon="briefcase",
            color="indigo",
            keys=opportunity_keys,
            load=load_opportunities,
            order=35,
            available=sees,
        )
    )
    register(
        Source(
            key="stage_move",
            label=gettext_lazy("Stage moves"),
            icon="arrow-big-right",
            color="cyan",
            keys=stage_move_keys,
            load=load_stage_moves,
            at="entered_at",
            order=36,
            available=sees,
        )
    )
    register(
        Source(
            key="deal_closed",
            label=gettext_lazy("Won and lost"),
            icon="flag",
            color="lime",
            keys=closed_keys,
            load=load_closed,
            at="entered_at",
            order=37,
            available=sees,
        )
    )
