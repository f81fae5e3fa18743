"""The funnel and stage analytics page, its drill-down to the records behind each figure, the
"customers by stage" report and the "close soon" page. Figures come from ``queries`` (every
opportunity through ``Opportunity.objects.visible_to``), the ranking from ``ranking``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tuoke.core.models import Action
from tuoke.core.scope import require
from tuoke.core.views import paginate
from tuoke.org.models import OrgUnit, User

from . import queries
from .models import LostReason, Opportunity, Pipeline, StageKind

PERIODS = (
    ("month", gettext_lazy("This month")),
    ("quarter", gettext_lazy("This quarter")),
    ("year", gettext_lazy("This year")),
    ("custom", gettext_lazy("Custom")),
)
DEFAULT_PERIOD = "year"
DATE_INPUT = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: OrgUnit) -> str:
        return "— " * obj.depth + obj.name


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj} · {obj.unit}" if obj.unit_id else str(obj)


class FunnelFilterForm(forms.Form):
    """Period, pipeline, owner and unit as query parameters; a bad value is reported on its
    field and left out (the default is used), the others still apply."""

    period = forms.ChoiceField(
        label=gettext_lazy("Period"),
        choices=PERIODS,
        required=False,
        widget=forms.Select(attrs={"x-model": "period", "data-testid": "filter-period"}),
    )
    start = forms.DateField(label=gettext_lazy("From"), required=False, widget=DATE_INPUT)
    end = forms.DateField(label=gettext_lazy("Until"), required=False, widget=DATE_INPUT)
    pipeline = forms.ModelChoiceField(
        label=gettext_lazy("Pipeline"),
        queryset=Pipeline.objects.none(),
        required=False,
        empty_label=None,  # the first, the default pipeline, when none is chosen
    )
    owner = PersonChoiceField(
        label=gettext_lazy("Owner"),
        queryset=User.objects.none(),
        required=False,
        empty_label=gettext_lazy("Everyone I can see"),
    )
    unit = UnitChoiceField(
        label=gettext_lazy("Owner's unit"),
        queryset=OrgUnit.objects.none(),
        required=False,
        empty_label=gettext_lazy("All units"),
    )

    def __init__(self, data, *, user: User):
        super().__init__(data)
        self.user = user
        self.fields["pipeline"].queryset = Pipeline.objects.visible_to(user).order_by(
            "-is_default", "sort_order", "pk"
        )
        self.fields["owner"].queryset = (
            queries.people_in_scope(user).select_related("unit").order_by("-is_active", "username")
        )
        self.fields["unit"].queryset = queries.units_in_scope(user).order_by("path")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("period") == "custom":
            if not data.get("start"):
                self.add_error("start", _("Give the first day of the period."))
            if not data.get("end"):
                self.add_error("end", _("Give the last day of the period."))
            if data.get("start") and data.get("end") and data["start"] > data["end"]:
                self.add_error("end", _("The end comes before the start."))
                data.pop("end", None)
        return data

    def filters(self) -> queries.Filters | None:
        """The filters chosen (defaults for what is missing or wrong); None without any
        pipeline."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        pipeline = data.get("pipeline") or self.fields["pipeline"].queryset.first()
        if pipeline is None:
            return None
        period = data.get("period") or DEFAULT_PERIOD
        if period == "custom" and data.get("start") and data.get("end"):
            start, after = data["start"], data["end"] + timedelta(days=1)
        else:
            start, after = queries.period_bounds(
                DEFAULT_PERIOD if period == "custom" else period, timezone.localdate()
            )
        owner = data.get("owner")
        return queries.Filters.of(
            pipeline=pipeline,
            start=start,
            end=after,
            owner_ids=[owner.pk] if owner else None,
            unit=data.get("unit"),
        )


def _filters_from(request) -> tuple[FunnelFilterForm, queries.Filters | None]:
    require(request.user, Opportunity.record_type, Action.VIEW)
    form = FunnelFilterForm(request.GET or None, user=request.user)
    return form, form.filters()


def _period_label(filters: queries.Filters) -> dict[str, Any]:
    return {
        "first_day": timezone.localtime(filters.start).date(),
        "last_day": timezone.localtime(filters.end).date() - timedelta(days=1),
    }


def _chart(funnel: queries.Funnel) -> dict[str, Any]:
    """What the charts draw (the tables beside them show the same figures)."""
    return {
        "funnel": [
            {
                "name": row.stage.name,
                "value": row.reached,
                "url": funnel.url("reached", row.stage),
            }
            for row in funnel.stages
        ]
        + [
            {
                "name": queries.won_name(queries.Ladder.of(funnel.filters.pipeline)),
                "value": funnel.won,
                "url": funnel.url("won"),
            }
        ],
        "days": {
            "stages": [row.stage.name for row in funnel.stages],
            "median": [row.median_days for row in funnel.stages],
            "p80": [row.p80_days for row in funnel.stages],
            "expected": [row.expected_days for row in funnel.stages],
            "labels": [_("Median days"), _("80th percentile"), _("Expected days")],
        },
        "reasons": [
            {
                "name": r.name,
                "value": r.count,
                "url": funnel.url("lost", reason=r.reason_id or 0),
            }
            for r in funnel.lost_reasons
        ],
    }


@login_required
def funnel(request):
    """The funnel of a pipeline for a period, with its bottleneck and drill-downs."""
    form, filters = _filters_from(request)
    context: dict[str, Any] = {"form": form, "nav_active": "funnel", "filters": filters}
    if filters is not None:
        result = queries.funnel(
            request.user,
            start=filters.start,
            end=filters.end,
            pipeline=filters.pipeline,
            owner_ids=filters.owner_ids,
            unit=filters.unit,
        )
        context.update(
            funnel=result,
            chart=_chart(result),
            **_figures(result),
            by_stage_url=_by_stage_url(filters),
            **_period_label(filters),
        )
    return render(request, "sales/funnel.html", context)


def _percent(share: float | None) -> int | None:
    return None if share is None else round(share * 100)


def _figures(funnel: queries.Funnel) -> dict[str, Any]:
    """Each figure of the page with the link to its records."""
    ladder = queries.Ladder.of(funnel.filters.pipeline)
    return {
        "rows": [
            {
                "figures": row,
                "entered_url": funnel.url("entered", row.stage),
                "reached_url": funnel.url("reached", row.stage),
                "days_url": funnel.url("days", row.stage),
                "slow": (row.over_expected or 0) > 1,
            }
            for row in funnel.stages
        ],
        "won_name": queries.won_name(ladder),
        "cohort_url": funnel.url("cohort"),
        "won_url": funnel.url("won"),
        "lost_url": funnel.url("lost"),
        "closed_url": funnel.url("closed"),
        "entered_won_url": funnel.url("entered", ladder.won) if ladder.won else "",
        "win_rate": _percent(funnel.win_rate),
        "win_rate_of_cohort": _percent(funnel.win_rate_of_cohort),
        "reasons": [
            {"name": r.name, "count": r.count, "url": funnel.url("lost", reason=r.reason_id or 0)}
            for r in funnel.lost_reasons
        ],
    }


def _by_stage_url(filters: queries.Filters) -> str:
    from urllib.parse import urlencode

    from django.urls import reverse

    return reverse("sales:customers_by_stage") + "?" + urlencode(filters.params())


MEASURE_TITLES = {
    "cohort": gettext_lazy("Opportunities created in the period"),
    "entered": gettext_lazy("Opportunities that entered %(stage)s in the period"),
    "reached": gettext_lazy("Opportunities created in the period that reached %(stage)s"),
    "won": gettext_lazy("Opportunities created in the period and won"),
    "lost": gettext_lazy("Opportunities created in the period and lost"),
    "closed": gettext_lazy("Opportunities created in the period and closed (won or lost)"),
    "days": gettext_lazy(
        "Opportunities created in the period whose stays in %(stage)s were measured"
    ),
    "customers": gettext_lazy("Open opportunities in %(stage)s now"),
}


@login_required
def funnel_records(request):
    """Exactly the opportunities behind one figure of the funnel (or of customers by stage)."""
    form, filters = _filters_from(request)
    measure = request.GET.get("measure", "")
    if filters is None or measure not in queries.MEASURES:
        raise Http404
    stage = None
    raw_stage = request.GET.get("stage", "")
    if raw_stage:
        if not raw_stage.isdigit():
            raise Http404
        stage = filters.pipeline.stages.filter(pk=raw_stage).first()
        if stage is None:
            raise Http404
    if measure in ("entered", "reached", "days", "customers") and stage is None:
        raise Http404
    if measure == "reached" and stage.kind == StageKind.WON:
        measure = "won"  # reaching the won stage is being won
    elif measure in ("reached", "days", "customers") and stage.kind != StageKind.OPEN:
        raise Http404
    reason = None
    reason_name = ""
    raw_reason = request.GET.get("reason", "")
    if raw_reason and measure == "lost":
        if not raw_reason.isdigit():
            raise Http404
        reason = int(raw_reason)
        if reason:
            found = LostReason.all_objects.filter(pk=reason).first()
            if found is None:
                raise Http404
            reason_name = found.name
        else:
            reason_name = _("No reason")
    found = queries.records(request.user, filters, measure, stage=stage, reason=reason)
    found = found.select_related("customer", "owner", "stage").order_by("-pk")
    page = paginate(request, found, count_cap=None)
    customers = found.values("customer_id").distinct().count() if measure == "customers" else None
    title = MEASURE_TITLES[measure] % {"stage": stage.name if stage else ""}
    return render(
        request,
        "sales/funnel_records.html",
        {
            "form": form,
            "filters": filters,
            "measure": measure,
            "stage": stage,
            "reason_name": reason_name,
            "title": title,
            "page_obj": page,
            "customers": customers,
            "nav_active": "funnel",
            "back_url": _back_url(filters, measure),
            **_period_label(filters),
        },
    )


def _back_url(filters: queries.Filters, measure: str) -> str:
    from urllib.parse import urlencode

    from django.urls import reverse

    name = "sales:customers_by_stage" if measure == "customers" else "sales:funnel"
    return reverse(name) + "?" + urlencode(filters.params())


@login_required
def customers_by_stage(request):
    """Per rep and open stage, the distinct customers with open opportunities there now."""
    form, filters = _filters_from(request)
    context: dict[str, Any] = {"form": form, "filters": filters, "nav_active": "funnel"}
    if filters is not None:
        report = queries.customers_by_stage(request.user, filters)
        rows = [
            {
                "owner": row.owner,
                "cells": [
                    (n, queries.records_url(filters, "customers", stage=s, owner=row.owner.pk))
                    for n, s in zip(row.counts, report.stages, strict=True)
                ],
                "total": row.total,
            }
            for row in report.rows
        ]
        context.update(
            report=report,
            rows=rows,
            totals=[
                (n, queries.records_url(filters, "customers", stage=s))
                for n, s in zip(report.totals, report.stages, strict=True)
            ],
            funnel_url=_back_url(filters, "funnel"),
        )
    return render(request, "sales/by_stage.html", context)


@login_required
def close_soon(request):
    """The user's open opportunities (or, for a manager, a team member's) ranked by how soon
    they may close, with the reasons."""
    require(request.user, Opportunity.record_type, Action.VIEW)
    people = queries.people_in_scope(request.user).filter(is_active=True)
    owner = request.user
    raw = request.GET.get("owner", "")
    if raw:
        owner = people.filter(pk=raw).first() if raw.isdigit() else None
        if owner is None:
            raise Http404
    ranked = queries.close_soon(request.user, owner=owner, limit=50)
    return render(
        request,
        "sales/close_soon.html",
        {
            "ranked": ranked,
            "owner": owner,
            "people": people.select_related("unit").order_by("unit__path", "username")
            if people.exclude(pk=request.user.pk).exists()
            else None,
            "nav_active": "close_soon",
        },
    )
