"""The opportunity list: search, filters, sort, pages, the columns a user chooses, saved views
(list key "opportunities"), and bulk hand-over or delete with a confirmation.

As the customer and lead lists, it keeps its whole state in the query string (filters, ``sort``,
``cols`` and ``view``), so a saved view is that query string (``tuoke.core.saved_views``).
Every opportunity comes from ``Opportunity.objects.visible_to(user)``; writes go through
``tuoke.sales.services``.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tuoke.core import custom_fields, lists, saved_views
from tuoke.core import views_saved_views as view_pages
from tuoke.core.errors import Conflict
from tuoke.core.models import Action, CustomField, owners_as_ids
from tuoke.core.scope import can, require
from tuoke.core.views import add_service_error, paginate
from tuoke.org.models import User

from . import services
from .forms import BulkForm, FilterForm
from .models import Opportunity, OpportunityStatus

LIST_KEY = "opportunities"
PAGES = view_pages.ListPages(
    list_key=LIST_KEY,
    url_name="sales:opportunity_list",
    namespace="sales",
    title=gettext_lazy("Opportunities"),
)
TARGET = Opportunity.custom_fields_target
# Opportunities one bulk action changes at most (a page is 50).
MAX_BULK = 200

SORTS = {
    "updated": "updated_at",
    "created": "created_at",
    "title": "title",
    "amount": "amount",
    "close": "expected_close_date",
    "in_stage": "stage_entered_at",
    "owner": "owner__username",
}
NULLABLE_SORTS = ("amount", "close")

BUILT_IN_COLUMNS = [
    lists.Column("opportunity", gettext_lazy("Opportunity"), sort="title", fixed=True),
    lists.Column("customer", gettext_lazy("Customer")),
    lists.Column("amount", gettext_lazy("Amount"), sort="amount"),
    lists.Column("stage", gettext_lazy("Stage"), sort="in_stage"),
    lists.Column("close", gettext_lazy("Expected close"), sort="close"),
    lists.Column("owner", gettext_lazy("Owner"), sort="owner"),
    lists.Column("weighted", gettext_lazy("Weighted amount"), default=False),
    lists.Column("pipeline", gettext_lazy("Pipeline"), default=False),
    lists.Column("unit", gettext_lazy("Unit"), default=False),
    lists.Column("last_activity", gettext_lazy("Last activity"), default=False),
    lists.Column("created", gettext_lazy("Created"), sort="created", default=False),
    lists.Column("updated", gettext_lazy("Updated"), sort="updated"),
]
CUSTOM_COLUMN_PREFIX = "custom."


def columns_for(fields: list[CustomField]) -> list[lists.Column]:
    return BUILT_IN_COLUMNS + [
        lists.Column(CUSTOM_COLUMN_PREFIX + f.key, f.label, default=f.show_in_list) for f in fields
    ]


EMPTY_CELL = mark_safe('<span class="text-secondary">—</span>')
STATUS_BADGES = {
    OpportunityStatus.OPEN: "bg-blue-lt",
    OpportunityStatus.WON: "bg-green-lt",
    OpportunityStatus.LOST: "bg-red-lt",
}


def _text(value) -> SafeString:
    text = str(value) if value is not None else ""
    return format_html("{}", text) if text else EMPTY_CELL


def money(amount, currency: str) -> str:
    if amount is None:
        return ""
    return f"{currency} {formats.number_format(amount, 2, use_l10n=True, force_grouping=True)}"


class CellRenderer:
    """The HTML of each cell, written in Python as the other lists': the columns vary per user."""

    def __init__(self, fields: list[CustomField]):
        self.custom = {CUSTOM_COLUMN_PREFIX + f.key: f for f in fields}

    def render(self, key: str, opp: Opportunity) -> SafeString:
        if key == "opportunity":
            return format_html(
                '<a href="{}" data-testid="opportunity-link">{}</a>',
                reverse("sales:opportunity_detail", args=[opp.pk]),
                opp.title,
            )
        if key == "customer":
            return _text(opp.customer.display_name)
        if key == "amount":
            return _text(money(opp.amount, opp.currency))
        if key == "weighted":
            return _text(money(opp.weighted_amount, opp.currency))
        if key == "stage":
            badge = STATUS_BADGES.get(opp.status, "bg-secondary-lt")
            return format_html(
                '<span class="badge {}" data-testid="stage-badge">{}</span>'
                '<div class="small text-secondary">{}%</div>',
                badge,
                opp.stage.name,
                opp.stage.probability,
            )
        if key == "close":
            return _text(
                formats.date_format(opp.expected_close_date, "Y-m-d")
                if opp.expected_close_date
                else ""
            )
        if key == "owner":
            return _text(opp.owner)
        if key == "pipeline":
            return _text(opp.pipeline)
        if key == "unit":
            return _text(opp.owner.unit)
        if key in ("created", "updated", "last_activity"):
            moment = getattr(opp, "last_activity_at" if key == "last_activity" else f"{key}_at")
            if moment is None:
                return EMPTY_CELL
            moment = timezone.localtime(moment)
            return format_html(
                '<time datetime="{}" title="{}">{}</time>',
                moment.isoformat(),
                formats.date_format(moment, "Y-m-d H:i"),
                formats.date_format(moment, "Y-m-d"),
            )
        field = self.custom.get(key)
        if field is not None:
            return _text(custom_fields.display_value(field, (opp.custom or {}).get(field.key)))
        return EMPTY_CELL


def _owners(user: User):
    return (
        User.objects.visible_to(user)
        .filter(is_active=True)
        .select_related("unit")
        .order_by("username")
    )


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _filtered(queryset, data: dict):
    if data.get("q"):
        q = data["q"]
        queryset = queryset.filter(
            Q(title__icontains=q)
            | Q(customer__short_name__icontains=q)
            | Q(customer__legal_name__icontains=q)
        )
    if data.get("status"):
        queryset = queryset.filter(status=data["status"])
    if data.get("pipeline"):
        queryset = queryset.filter(pipeline=data["pipeline"])
    if data.get("stage"):
        queryset = queryset.filter(stage=data["stage"])
    if data.get("owner"):
        queryset = queryset.filter(owner=data["owner"])
    if data.get("unit"):
        queryset = queryset.filter(owner__unit__path__startswith=data["unit"].path)
    if data.get("close_month"):
        first = data["close_month"]
        queryset = queryset.filter(
            expected_close_date__gte=first, expected_close_date__lt=_next_month(first)
        )
    if data.get("customer"):
        queryset = queryset.filter(customer=data["customer"])
    return queryset


FILTER_KEYS = ("q", "status", "pipeline", "stage", "owner", "unit", "close_month", "customer")


@login_required
def opportunity_list(request):
    """Opportunities within the view scope, filtered, sorted and paged, with the user's
    columns; a saved view or the one he opens the list with."""
    user = request.user
    require(user, "opportunity", Action.VIEW)
    params = request.GET
    if not params:
        default = saved_views.default_view(user, LIST_KEY)
        if default is not None:
            return redirect(PAGES.view_url(default))
    views = saved_views.views_list(user, LIST_KEY)
    for view in views:
        view.open_url = PAGES.view_url(view)
    current_view = next((v for v in views if str(v.pk) == params.get("view")), None)

    owners = list(_owners(user))
    form = FilterForm(params, user=user, owners=_owners(user))
    form.is_valid()
    data = {k: v for k, v in form.cleaned_data.items() if k not in form.errors}
    fields = custom_fields.fields_for(TARGET)

    def listed():
        found = _filtered(Opportunity.objects.visible_to(user), data)
        return custom_fields.filter_queryset(found, TARGET, params, fields=fields)

    opportunities = listed()
    counted = None
    if not data.get("q"):
        with owners_as_ids():
            counted = listed()

    sort, order = lists.ordering(
        params.get("sort"), SORTS, default="-updated", nullable=NULLABLE_SORTS
    )
    chosen = params.get(lists.COLUMNS_PARAM) or saved_views.chosen_columns(user, LIST_KEY)
    all_columns = columns_for(fields)
    shown = lists.shown_columns(all_columns, chosen)
    keys = {c.key for c in shown}
    related = ["customer", "stage", "pipeline", "owner__unit" if "unit" in keys else "owner"]
    page = paginate(
        request, opportunities.select_related(*related).order_by(*order), counted=counted
    )

    cells = CellRenderer(fields)
    headers = [(str(c.label), c.key) for c in shown]
    rows = [
        {
            "opportunity": opp,
            "cells": format_html_join(
                "",
                '<td data-label="{}" data-column="{}">{}</td>',
                ((label, key, cells.render(key, opp)) for label, key in headers),
            ),
        }
        for opp in page.object_list
    ]

    state = params.copy()
    state["sort"] = sort
    state[lists.COLUMNS_PARAM] = lists.columns_param(shown)
    state_query = saved_views.clean_query(state)
    hidden = [c for c in all_columns if not c.fixed and c.key not in keys]
    pipeline = data.get("pipeline")
    return render(
        request,
        "sales/opportunity_list.html",
        {
            "form": form,
            "data": data,
            "page_obj": page,
            "rows": rows,
            "columns": shown,
            "column_choices": [(c, True) for c in shown if not c.fixed]
            + [(c, False) for c in hidden],
            "cols": lists.columns_param(shown),
            "statuses": OpportunityStatus.choices,
            "pipelines": list(form.fields["pipeline"].queryset.filter(active=True)),
            "stages": list(
                form.fields["stage"]
                .queryset.filter(**({"pipeline": pipeline} if pipeline else {}))
                .select_related("pipeline")
            ),
            "owners": owners,
            "units": [(u, "— " * u.depth + u.name) for u in form.fields["unit"].queryset],
            "sort": sort,
            "filtered": any(params.get(k) for k in FILTER_KEYS)
            or any(k.startswith(custom_fields.FILTER_PREFIX) and v for k, v in params.items()),
            "views": views,
            "current_view": current_view,
            "view_param": params.get("view", ""),
            "modified": current_view is not None and state_query != current_view.query,
            "state_query": state_query,
            "back_query": params.urlencode(),
            "pages": PAGES,
            "may_create": can(user, "opportunity", Action.CREATE),
            "may_assign": can(user, "opportunity", Action.APPROVE),
            "may_delete": can(user, "opportunity", Action.DELETE),
        },
        status=400 if form.errors else 200,
    )


def _ids(request) -> list[int]:
    ids: list[int] = []
    for raw in request.POST.getlist("ids"):
        try:
            pk = int(raw)
        except (TypeError, ValueError):
            raise Http404 from None
        if pk not in ids:
            ids.append(pk)
    return ids[: MAX_BULK + 1]


def _back_query(raw: str) -> str:
    return QueryDict(raw[:4000]).urlencode()


@login_required
def opportunity_bulk(request):
    """Hand the ticked opportunities to another owner or delete them: a confirmation first
    (what changes, what is left out because the user may not change it), then the action."""
    if request.method != "POST":
        return redirect(PAGES.list_url())
    user = request.user
    require(user, "opportunity", Action.VIEW)
    ids = _ids(request)
    form = BulkForm(request.POST, owners=_owners(user))
    valid = form.is_valid()
    selected = list(
        Opportunity.objects.visible_to(user)
        .filter(pk__in=ids)
        .select_related("owner", "customer")
        .order_by("-updated_at", "-pk")
    )
    if len(selected) != len(ids):
        raise Http404  # one he may not see: he may not learn that it exists
    back = _back_query(request.POST.get("back", ""))
    if not ids:
        form.add_error(None, _("Select at least one opportunity."))
        valid = False
    elif len(ids) > MAX_BULK:
        form.add_error(
            None, _("Select at most %(count)s opportunities at once.") % {"count": MAX_BULK}
        )
        valid = False
    action = form.cleaned_data.get("action")
    needed = Action.APPROVE if action == BulkForm.ASSIGN else Action.DELETE
    allowed = set(
        Opportunity.objects.visible_to(user, needed).filter(pk__in=ids).values_list("pk", flat=True)
    )
    changeable = [o for o in selected if o.pk in allowed]
    skipped = [o for o in selected if o.pk not in allowed]
    if valid and not changeable:
        form.add_error(None, _("You may not change any of the selected opportunities."))
        valid = False
    if valid and request.POST.get("confirm"):
        try:
            if action == BulkForm.ASSIGN:
                count = services.transfer_opportunities(
                    changeable,
                    to=form.cleaned_data["to"],
                    reason=form.cleaned_data["reason"],
                    by=user,
                )
                note = _("%(count)s opportunities were given to %(name)s.") % {
                    "count": count,
                    "name": form.cleaned_data["to"],
                }
            else:
                for opp in changeable:
                    services.delete_opportunity(opp, by=user)
                note = _(
                    "%(count)s opportunities were moved to the recycle bin (restore them there)."
                ) % {"count": len(changeable)}
        except (ValidationError, Conflict, PermissionDenied) as exc:
            if isinstance(exc, PermissionDenied):
                exc = ValidationError(str(exc))
            add_service_error(form, exc)
        else:
            messages.success(request, note)
            return redirect(PAGES.list_url(back))
    return render(
        request,
        "sales/opportunity_bulk.html",
        {
            "form": form,
            "ids": ids,
            "changeable": changeable,
            "skipped": skipped,
            "back": back,
            "back_url": PAGES.list_url(back),
        },
        status=400 if form.errors else 200,
    )


# --- Saved views and columns (the shared pages of tuoke.core.views_saved_views) ----------------

SAVED_VIEW_ROUTES = view_pages.routes(
    PAGES,
    record_type="opportunity",
    columns=lambda: columns_for(custom_fields.fields_for(TARGET)),
    prefix="opportunities/",
)
