"""The receivables page (contracts awaiting payment, aged into buckets per rep and unit) and the
renewals page (contracts ending soon, renewal figures per period). Thin over
``tuoke.contracts.queries``: every figure links to exactly the contracts it counts."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from tuoke.core.models import Action
from tuoke.core.scope import can, require
from tuoke.core.views import paginate
from tuoke.org.models import OrgUnit, User

from . import queries
from .models import Contract, ContractSettings

LIST_PAGE_SIZE = 25
DATE_INPUT = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})

BUCKET_LABELS = {
    "not_due": pgettext_lazy("receivables", "Not due"),
    "1_30": gettext_lazy("1–30 days overdue"),
    "31_90": gettext_lazy("31–90 days overdue"),
    "over_90": gettext_lazy("Over 90 days overdue"),
}
BUCKET_SHORT = {
    "not_due": pgettext_lazy("receivables", "Not due"),
    "1_30": gettext_lazy("1–30 days"),
    "31_90": gettext_lazy("31–90 days"),
    "over_90": gettext_lazy("> 90 days"),
}
ORDERS = (
    ("outstanding", gettext_lazy("Largest outstanding first")),
    ("oldest", gettext_lazy("Longest overdue first")),
)
PERIODS = (
    ("month", gettext_lazy("Month")),
    ("quarter", gettext_lazy("Quarter")),
    ("year", gettext_lazy("Year")),
)
RENEWAL_LISTS = {
    "due": gettext_lazy("Contracts due for renewal in the period"),
    "renewed": gettext_lazy("Renewed contracts"),
    "not_renewed": gettext_lazy("Contracts not renewed (yet)"),
    "renewals": gettext_lazy("Renewal contracts"),
}


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: OrgUnit) -> str:
        return "— " * obj.depth + obj.name


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj} · {obj.unit}" if obj.unit_id else str(obj)


class ScopeFilterForm(forms.Form):
    """Owner and unit among those the user sees; a bad value is shown on its field and
    left out, the other filters still apply."""

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
        people = queries.people_in_scope(user).select_related("unit")
        self.fields["owner"].queryset = people.order_by("-is_active", "username")
        self.fields["unit"].queryset = queries.units_in_scope(user).order_by("path")
        # Read once: the form shows them and the template asks whether to offer them.
        self.owner_choices = len(self.fields["owner"].choices) - 1
        self.unit_choices = len(self.fields["unit"].choices) - 1

    def value(self, name: str) -> Any:
        self.is_valid()
        return getattr(self, "cleaned_data", {}).get(name)


class ReceivablesFilterForm(ScopeFilterForm):
    as_of = forms.DateField(label=gettext_lazy("As of"), required=False, widget=DATE_INPUT)
    bucket = forms.ChoiceField(
        label=gettext_lazy("Ageing"),
        required=False,
        choices=[("", gettext_lazy("All awaiting payment")), *BUCKET_LABELS.items()],
    )
    order = forms.ChoiceField(label=gettext_lazy("Order"), required=False, choices=ORDERS)


class RenewalsFilterForm(ScopeFilterForm):
    days = forms.IntegerField(
        label=gettext_lazy("Ending within (days)"), required=False, min_value=1, max_value=365
    )
    period = forms.ChoiceField(label=gettext_lazy("Period"), required=False, choices=PERIODS)
    day = forms.DateField(
        label=gettext_lazy("Period containing"), required=False, widget=DATE_INPUT
    )
    show = forms.ChoiceField(
        required=False, choices=[("", "—"), *RENEWAL_LISTS.items()], widget=forms.HiddenInput
    )


def _query(params: dict[str, Any], **changes: Any) -> str:
    """ "?a=1&b=2" of the filters with ``changes`` (None drops a parameter)."""
    merged = {**params, **changes}
    kept = {k: v for k, v in merged.items() if v not in (None, "")}
    return "?" + urlencode(kept) if kept else "?"


def _contract_url(pk: int) -> str:
    return reverse("contracts:contract_detail", args=[pk])


def _renew_url(pk: int) -> str:
    try:
        return reverse("contracts:contract_renew", args=[pk])
    except NoReverseMatch:  # the renewal page is not there (yet)
        return ""


def _pager(request, page, param: str) -> dict[str, str]:
    """Previous and next links of a second list on a page (its own page parameter)."""
    params = request.GET.copy()

    def link(number: int) -> str:
        params[param] = str(number)
        return "?" + params.urlencode()

    return {
        "previous": link(page.previous_page_number()) if page.has_previous() else "",
        "next": link(page.next_page_number()) if page.has_next() else "",
    }


# --- Receivables -----------------------------------------------------------------------------


def _cells(ageing: queries.Ageing, url_of) -> list[tuple[Any, str, str]]:
    """(amount, drill-down link, label) per bucket of a rep's or unit's row."""
    return [(ageing.buckets[b], url_of(b), BUCKET_SHORT[b]) for b in queries.BUCKETS]


@login_required
def receivables(request):
    """Receivables ageing: bucket totals, per rep and per unit, and the contracts behind a
    figure (all awaiting payment by default)."""
    require(request.user, Contract.record_type, Action.VIEW)
    form = ReceivablesFilterForm(request.GET or None, user=request.user)
    today = timezone.localdate()
    as_of = form.value("as_of") or today
    owner, unit = form.value("owner"), form.value("unit")
    bucket = form.value("bucket") or ""
    order = form.value("order") or "outstanding"
    report = queries.receivables(request.user, as_of=as_of, owner=owner, unit=unit)
    params = {
        "as_of": as_of.isoformat() if as_of != today else None,
        "owner": owner.pk if owner else None,
        "unit": unit.pk if unit else None,
        "order": order if order != "outstanding" else None,
    }

    def link(**changes: Any) -> str:
        return _query(params, **changes) + "#contracts"

    contracts = report.ordered(report.in_bucket(bucket), order).select_related("customer", "owner")
    page = paginate(request, contracts, per_page=LIST_PAGE_SIZE)
    rows = report.rows(page.object_list)
    for row in rows:
        row.url = _contract_url(row.contract.pk)
        row.cells = [(b, BUCKET_SHORT[b], row.buckets[b]) for b in queries.BUCKETS]
    cards = [
        {
            "bucket": b,
            "label": BUCKET_LABELS[b],
            "amount": report.total.buckets[b],
            "url": link(bucket=b),
            "active": b == bucket,
        }
        for b in queries.BUCKETS
    ]
    owners = [
        {
            "ageing": a,
            "cells": _cells(a, lambda b, a=a: link(owner=a.owner.pk, unit=None, bucket=b)),
            "url": link(owner=a.owner.pk, unit=None, bucket=None),
        }
        for a in report.by_owner
        if a.owner is not None
    ]
    units = [
        {
            "ageing": a,
            "indent": "— " * a.unit.depth,
            "cells": _cells(a, lambda b, a=a: link(unit=a.unit.pk, owner=None, bucket=b)),
            "url": link(unit=a.unit.pk, owner=None, bucket=None),
        }
        for a in report.by_unit
        if a.unit is not None
    ]
    chart = {
        "labels": [str(BUCKET_SHORT[b]) for b in queries.BUCKETS],
        "values": [str(report.total.buckets[b]) for b in queries.BUCKETS],
        "urls": [card["url"] for card in cards],
        "currency": report.currency,
    }
    return render(
        request,
        "contracts/receivables.html",
        {
            "form": form,
            "report": report,
            "cards": cards,
            "owners": owners,
            "units": units,
            "rows": rows,
            "page_obj": page,
            "bucket": bucket,
            "bucket_label": BUCKET_LABELS.get(bucket, ""),
            "bucket_labels": [BUCKET_SHORT[b] for b in queries.BUCKETS],
            "order": order,
            "orders": [
                (
                    key,
                    label,
                    link(order=key if key != "outstanding" else None, bucket=bucket or None),
                )
                for key, label in ORDERS
            ],
            "all_url": link(bucket=None),
            "total_url": link(bucket=None),
            "chart": chart,
            "as_of": as_of,
            "is_today": as_of == today,
            "owner": owner,
            "unit": unit,
            "missing_rates": sorted(report.missing_rates),
        },
    )


# --- Renewals --------------------------------------------------------------------------------


def _shift(kind: str, first: date, steps: int) -> date:
    """A day in the period ``steps`` periods before or after the one starting on ``first``."""
    months = {"month": 1, "quarter": 3, "year": 12}[kind] * steps
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@login_required
def renewals(request):
    """Contracts ending within N days without a renewal (with a Renew button), and the renewal
    figures of a month, quarter or year with the contracts behind each."""
    require(request.user, Contract.record_type, Action.VIEW)
    today = timezone.localdate()
    horizon = ContractSettings.current().renewal_horizon_days
    data = request.GET.copy() if request.GET else None
    if data is not None and not data.get("period"):
        data["period"] = "quarter"  # shown as chosen, as it is used
    form = RenewalsFilterForm(data, user=request.user)
    form.fields["period"].initial = "quarter"
    form.fields["days"].widget.attrs["placeholder"] = str(horizon)
    days = form.value("days") or horizon
    owner, unit = form.value("owner"), form.value("unit")
    kind = form.value("period") or "quarter"
    start, end = queries.period_of(kind, form.value("day") or today)
    show = form.value("show") or ""
    params = {
        "days": days if days != horizon else None,
        "owner": owner.pk if owner else None,
        "unit": unit.pk if unit else None,
        "period": kind if kind != "quarter" else None,
        "day": start.isoformat() if not (start <= today <= end) else None,
    }

    soon = queries.ending_soon(
        request.user, days=days, as_of=today, owner=owner, unit=unit
    ).select_related("customer", "owner")
    page = paginate(request, soon, per_page=LIST_PAGE_SIZE)
    may_renew = can(request.user, Contract.record_type, Action.CREATE)
    for contract in page.object_list:
        contract.url = _contract_url(contract.pk)
        contract.renew_url = _renew_url(contract.pk) if may_renew else ""
        contract.days_left = (contract.ends_on - today).days

    figures = queries.renewal_figures(request.user, start=start, end=end, owner=owner, unit=unit)

    def link(**changes: Any) -> str:
        return _query(params, **changes)

    drill: dict[str, Any] = {}
    if show:
        listed = {
            "due": figures.due,
            "renewed": figures.renewed(),
            "not_renewed": figures.not_renewed(),
            "renewals": figures.renewals(),
        }[show]
        listed = listed.select_related("customer", "owner", "renews").order_by("ends_on", "pk")
        drill_page = paginate(request, listed, per_page=LIST_PAGE_SIZE, param="list_page")
        for contract in drill_page.object_list:
            contract.url = _contract_url(contract.pk)
            contract.renews_url = _contract_url(contract.renews_id) if contract.renews_id else ""
        drill = {
            "key": show,
            "title": RENEWAL_LISTS[show],
            "page": drill_page,
            "pager": _pager(request, drill_page, "list_page"),
        }
    return render(
        request,
        "contracts/renewals.html",
        {
            "form": form,
            "days": days,
            "horizon": horizon,
            "page_obj": page,
            "may_renew": may_renew,
            "figures": figures,
            "rate_by_count": _percent(figures.rate_by_count),
            "rate_by_amount": _percent(figures.rate_by_amount),
            "links": {key: link(show=key) + "#renewal-list" for key in RENEWAL_LISTS},
            "previous_url": link(day=_shift(kind, start, -1).isoformat(), show=show or None),
            "next_url": link(day=_shift(kind, start, 1).isoformat(), show=show or None),
            "period_kind": kind,
            "period_title": period_title(kind, start),
            "start": start,
            "end": end,
            "drill": drill,
            "missing_rates": sorted(figures.missing_rates),
        },
    )


def _percent(share) -> str | None:
    """0.4679 → "46.8" (one decimal), None when nothing was due."""
    if share is None:
        return None
    return f"{share * 100:.1f}"


def period_title(kind: str, start: date) -> str:
    """ "2026-07", "2026 Q3" or "2026"."""
    if kind == "month":
        return start.strftime("%Y-%m")
    if kind == "quarter":
        return _("%(year)s Q%(quarter)s") % {"year": start.year, "quarter": (start.month + 2) // 3}
    return str(start.year)
