"""The daily plan's "stalled_opportunity" source: an open opportunity idle (no follow-up on
its customer, no stage move) for longer than its stage's expected days becomes a task for its
owner, on the customer, naming the deal and its stage (registered from ``hooks.install``)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.conf import settings
from django.db.models import CharField, Count, Exists, F, OuterRef, Q, Value, Window
from django.db.models.functions import Cast, Coalesce, Concat, RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tuoke.activities.models import Task
from tuoke.activities.plan import Draft, PlanSource, _Languages, day_start, register

from .models import Opportunity, OpportunityStatus, Stage, StageKind

STALLED_SOURCE = "stalled_opportunity"
# At most this many stalled deals per rep on his plan a day (settings.PLAN_STALLED_DAILY_CAP),
# the longest idle first: the rest come when these are dealt with.
DEFAULT_STALLED_CAP = 20
STALLED_KIND = "call"


def stalled_cap() -> int:
    return int(getattr(settings, "PLAN_STALLED_DAILY_CAP", DEFAULT_STALLED_CAP))


def source_key(opportunity_id: int) -> str:
    return f"opportunity:{opportunity_id}"


def stalled_drafts(day: date) -> list[Draft]:
    """Open opportunities whose last activity (or entry into their stage) lies their stage's
    expected days back, per owner the longest idle first up to the cap (counting the stalled
    deals already on his plan); none with an open task of this source already."""
    cap = stalled_cap()
    stages = list(
        Stage.objects.filter(kind=StageKind.OPEN, expected_days__gt=0).values_list(
            "pk", "expected_days"
        )
    )
    if not stages or cap <= 0:
        return []
    due = Q(pk__in=[])
    for pk, days in stages:
        due |= Q(stage_id=pk, touched__lt=day_start(day - timedelta(days=days - 1)))
    open_task = Task.objects.filter(
        source=STALLED_SOURCE,
        source_key=Concat(Value("opportunity:"), Cast(OuterRef("pk"), CharField())),
        done_at__isnull=True,
    )
    rows = list(
        Opportunity.objects.filter(
            status=OpportunityStatus.OPEN,
            owner__is_active=True,
            customer__deleted_at__isnull=True,
        )
        .annotate(touched=Coalesce("last_activity_at", "stage_entered_at"))
        .filter(due)
        .filter(~Exists(open_task))
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("owner_id")], order_by=[F("touched").asc(), F("pk")]
            )
        )
        .filter(rank__lte=cap)
        .order_by()
        .values_list(
            "pk",
            "owner_id",
            "customer_id",
            "title",
            "stage__name",
            "stage__expected_days",
            "touched",
        )
    )
    taken = dict(
        Task.objects.filter(source=STALLED_SOURCE, done_at__isnull=True)
        .values("owner_id")
        .annotate(n=Count("pk"))
        .values_list("owner_id", "n")
    )
    by_owner: dict[int, list[tuple]] = defaultdict(list)
    for row in rows:
        by_owner[row[1]].append(row)
    language = _Languages(by_owner)
    drafts = []
    for owner, found in by_owner.items():
        found.sort(key=lambda r: (r[6], r[0]))
        room = max(cap - taken.get(owner, 0), 0)
        for pk, _owner, customer, title, stage, expected, touched in found[:room]:
            idle = (day - timezone.localdate(touched)).days
            with language(owner):
                task_title = _("Stalled deal: %(title)s (%(stage)s)") % {
                    "title": title,
                    "stage": stage,
                }
                note = _(
                    "No activity for %(days)s days in “%(stage)s” (expected: %(expected)s days)."
                ) % {"days": idle, "stage": stage, "expected": expected}
            drafts.append(
                Draft(
                    owner_id=owner,
                    source_key=source_key(pk),
                    title=task_title,
                    due_on=day,
                    customer_id=customer,
                    kind=STALLED_KIND,
                    note=note,
                )
            )
    return drafts


def register_source() -> None:
    register(
        PlanSource(
            key=STALLED_SOURCE,
            label=gettext_lazy("Stalled opportunities"),
            generate=stalled_drafts,
            order=30,
        )
    )
