"""The contract list: search (number, title, customer), filters (status, owner, unit, customer,
end date), sort, pages, the columns a user chooses and saved views (list key "contracts").

As the other lists it keeps its whole state in the query string (filters, ``sort``, ``cols``
and ``view``), so a saved view is that query string (``tuoke.core.saved_views``). Every
contract comes from ``Contract.objects.visible_to(user)``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, Q
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from tuoke.core import custom_fields, lists, saved_views
from tuoke.core import views_saved_views as view_pages
from tuoke.core.errors import Conflict
from tuoke.core.models import Action, CustomField, owners_as_ids
from tuoke.core.money import format_money
from tuoke.core.scope import can, require
from tuoke.core.views import add_service_error, paginate
from tuoke.org.models import User

from . import services
from .forms import BulkForm, FilterForm
from .models import Contract, ContractStatus

LIST_KEY = "contracts"
PAGES = view_pages.ListPages(
    list_key=LIST_KEY,
    url_name="contracts:contract_list",
    namespace="contracts",
    title=gettext_lazy("Contracts"),
)
TARGET = Contract.custom_fields_target
# Contracts one bulk hand-over moves at most (a page is 50).
MAX_BULK = 200

SORTS = {
    "updated": "updated_at",
    "created": "created_at",
    "number": "number",
    "customer": "customer__short_name",
    "amount": "amount",
    "signed": "signed_on",
    "ends": "ends_on",
    "received": "received_amount",
    "outstanding": "outstanding_amount",
    "status": "status",
    "owner": "owner__username",
}
NULLABLE_SORTS = ("signed", "ends")

BUILT_IN_COLUMNS = [
    lists.Column("contract", gettext_lazy("Contract"), sort="number", fixed=True),
    lists.Column("customer", gettext_lazy("Customer"), sort="customer"),
    lists.Column("amount", gettext_lazy("Amount"), sort="amount"),
    lists.Column("received", pgettext_lazy("money", "Received"), sort="received"),
    lists.Column("outstanding", gettext_lazy("Outstanding"), sort="outstanding"),
    lists.Column("status", gettext_lazy("Status"), sort="status"),
    lists.Column("signed", gettext_lazy("Signed on"), sort="signed"),
    lists.Column("ends", gettext_lazy("Ends on"), sort="ends"),
    lists.Column("owner", gettext_lazy("Owner"), sort="owner"),
    lists.Column("unit", gettext_lazy("Unit"), default=False),
    lists.Column("starts", gettext_lazy("Starts on"), default=False),
    lists.Column("opportunity", gettext_lazy("Opportunity"), default=False),
    lists.Column("created", gettext_lazy("Created"), sort="created", default=False),
    lists.Column("updated", gettext_lazy("Updated"), sort="updated", default=False),
]
CUSTOM_COLUMN_PREFIX = "custom."


def columns_for(fields: list[CustomField]) -> list[lists.Column]:
    return BUILT_IN_COLUMNS + [
        lists.Column(CUSTOM_COLUMN_PREFIX + f.key, f.label, default=f.show_in_list) for f in fields
    ]


EMPTY_CELL = mark_safe('<span class="text-secondary">—</span>')
STATUS_BADGES = {
    ContractStatus.DRAFT: "bg-secondary-lt",
    ContractStatus.PENDING: "bg-yellow-lt",
    ContractStatus.EFFECTIVE: "bg-green-lt",
    ContractStatus.COMPLETED: "bg-blue-lt",
    ContractStatus.TERMINATED: "bg-red-lt",
}


def _text(value) -> SafeString:
    text = str(value) if value is not None else ""
    return format_html("{}", text) if text else EMPTY_CELL


def _day(value) -> SafeString:
    return _text(formats.date_format(value, "Y-m-d") if value else "")


class CellRenderer:
    """The HTML of each cell, written in Python as the other lists': the columns vary per user."""

    def __init__(self, fields: list[CustomField]):
        self.custom = {CUSTOM_COLUMN_PREFIX + f.key: f for f in fields}

    def render(self, key: str, contract: Contract) -> SafeString:
        if key == "contract":
            return format_html(
                '<a href="{}" data-testid="contract-link"><span class="text-nowrap">{}</span></a>'
                '<div class="small text-secondary">{}</div>',
                reverse("contracts:contract_detail", args=[contract.pk]),
                contract.number,
                contract.title,
            )
        if key == "customer":
            return _text(contract.customer.display_name)
        if key == "amount":
            return _text(format_money(contract.amount, contract.currency))
        if key == "received":
            return _text(format_money(contract.received_amount, contract.currency))
        if key == "outstanding":
            if contract.status not in (ContractStatus.EFFECTIVE, ContractStatus.COMPLETED):
                return EMPTY_CELL
            return _text(format_money(contract.outstanding, contract.currency))
        if key == "status":
            return format_html(
                '<span class="badge {}" data-testid="status-badge" data-status="{}">{}</span>',
                STATUS_BADGES.get(contract.status, "bg-secondary-lt"),
                contract.status,
                contract.get_status_display(),
            )
        if key == "signed":
            return _day(contract.signed_on)
        if key == "starts":
            return _day(contract.starts_on)
        if key == "ends":
            return _day(contract.ends_on)
        if key == "owner":
            return _text(contract.owner)
        if key == "unit":
            return _text(contract.owner.unit)
        if key == "opportunity":
            return _text(contract.opportunity.title if contract.opportunity else "")
        if key in ("created", "updated"):
            moment = timezone.localtime(getattr(contract, f"{key}_at"))
            return format_html(
                '<time datetime="{}" title="{}">{}</time>',
                moment.isoformat(),
                formats.date_format(moment, "Y-m-d H:i"),
                formats.date_format(moment, "Y-m-d"),
            )
        field = self.custom.get(key)
        if field is not None:
            return _text(custom_fields.display_value(field, (contract.custom or {}).get(field.key)))
        return EMPTY_CELL


def _owners(user: User):
    return (
        User.objects.visible_to(user)
        .filter(is_active=True)
        .select_related("unit")
        .order_by("username")
    )


def _filtered(queryset, data: dict):
    if data.get("q"):
        q = data["q"]
        queryset = queryset.filter(
            Q(number__icontains=q)
            | Q(title__icontains=q)
            | Q(customer__short_name__icontains=q)
            | Q(customer__legal_name__icontains=q)
        )
    if data.get("status"):
        queryset = queryset.filter(status=data["status"])
    if data.get("owner"):
        queryset = queryset.filter(owner=data["owner"])
    if data.get("unit"):
        queryset = queryset.filter(owner__unit__path__startswith=data["unit"].path)
    if data.get("customer"):
        queryset = queryset.filter(customer=data["customer"])
    if data.get("ends_after"):
        queryset = queryset.filter(ends_on__gte=data["ends_after"])
    if data.get("ends_before"):
        queryset = queryset.filter(ends_on__lte=data["ends_before"])
    return queryset


FILTER_KEYS = ("q", "status", "owner", "unit", "customer", "ends_after", "ends_before")


@login_required
def contract_list(request):
    """Contracts within the view scope, filtered, sorted and paged, with the user's columns;
    a saved view or the one he opens the list with."""
    user = request.user
    require(user, "contract", Action.VIEW)
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
        found = _filtered(Contract.objects.visible_to(user), data)
        return custom_fields.filter_queryset(found, TARGET, params, fields=fields)

    contracts = listed()
    counted = None
    if not data.get("q"):
        with owners_as_ids():
            counted = listed()

    sort, order = lists.ordering(
        params.get("sort"), SORTS, default="-updated", nullable=NULLABLE_SORTS
    )
    if sort.removeprefix("-") == "outstanding":
        contracts = contracts.annotate(outstanding_amount=F("amount") - F("received_amount"))
    chosen = params.get(lists.COLUMNS_PARAM) or saved_views.chosen_columns(user, LIST_KEY)
    all_columns = columns_for(fields)
    shown = lists.shown_columns(all_columns, chosen)
    keys = {c.key for c in shown}
    related = ["customer", "owner__unit" if "unit" in keys else "owner"]
    if "opportunity" in keys:
        related.append("opportunity")
    page = paginate(request, contracts.select_related(*related).order_by(*order), counted=counted)

    cells = CellRenderer(fields)
    headers = [(str(c.label), c.key) for c in shown]
    rows = [
        {
            "contract": contract,
            "cells": format_html_join(
                "",
                '<td data-label="{}" data-column="{}">{}</td>',
                ((label, key, cells.render(key, contract)) for label, key in headers),
            ),
        }
        for contract in page.object_list
    ]

    state = params.copy()
    state["sort"] = sort
    state[lists.COLUMNS_PARAM] = lists.columns_param(shown)
    state_query = saved_views.clean_query(state)
    hidden = [c for c in all_columns if not c.fixed and c.key not in keys]
    return render(
        request,
        "contracts/contract_list.html",
        {
            "form": form,
            "data": data,
            "page_obj": page,
            "rows": rows,
            "columns": shown,
            "column_choices": [(c, True) for c in shown if not c.fixed]
            + [(c, False) for c in hidden],
            "cols": lists.columns_param(shown),
            "statuses": ContractStatus.choices,
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
            "may_create": can(user, "contract", Action.CREATE),
            "may_assign": can(user, "contract", Action.APPROVE),
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


@login_required
def contract_bulk(request):
    """Hand the ticked contracts to another owner: a confirmation first (what changes, what
    is left out because the user may not hand it over), then the transfer."""
    if request.method != "POST":
        return redirect(PAGES.list_url())
    user = request.user
    require(user, "contract", Action.VIEW)
    ids = _ids(request)
    form = BulkForm(request.POST, owners=_owners(user))
    valid = form.is_valid()
    selected = list(
        Contract.objects.visible_to(user)
        .filter(pk__in=ids)
        .select_related("owner", "customer")
        .order_by("-updated_at", "-pk")
    )
    if len(selected) != len(ids):
        raise Http404  # one he may not see: he may not learn that it exists
    back = QueryDict(request.POST.get("back", "")[:4000]).urlencode()
    if not ids:
        form.add_error(None, _("Select at least one contract."))
        valid = False
    elif len(ids) > MAX_BULK:
        form.add_error(None, _("Select at most %(count)s contracts at once.") % {"count": MAX_BULK})
        valid = False
    allowed = set(
        Contract.objects.visible_to(user, Action.APPROVE)
        .filter(pk__in=ids)
        .values_list("pk", flat=True)
    )
    changeable = [c for c in selected if c.pk in allowed]
    skipped = [c for c in selected if c.pk not in allowed]
    if valid and not changeable:
        form.add_error(None, _("You may not hand over any of the selected contracts."))
        valid = False
    if valid and request.POST.get("confirm"):
        to = form.cleaned_data["to"]
        try:
            count = services.transfer_contracts(
                changeable, to=to, reason=form.cleaned_data["reason"], by=user
            )
        except (ValidationError, Conflict, PermissionDenied) as exc:
            if isinstance(exc, PermissionDenied):
                exc = ValidationError(str(exc))
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("%(count)s contracts were given to %(name)s.") % {"count": count, "name": to},
            )
            return redirect(PAGES.list_url(back))
    return render(
        request,
        "contracts/contract_bulk.html",
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
    record_type="contract",
    columns=lambda: columns_for(custom_fields.fields_for(TARGET)),
)
