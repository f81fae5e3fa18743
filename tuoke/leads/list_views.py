"""The lead list: search, filters, sort, pages, the columns a user chooses, saved views, and
bulk assign / clean with a confirmation.

As the customer list (``tuoke.customers.list_views``), it keeps its whole state in the query
string (filters, ``sort``, ``cols``, and ``view`` naming the saved view it came from), so a saved
view is that query string, kept by ``tuoke.core.saved_views``. Every lead comes from
``Lead.objects.visible_to(user)``; writes go through ``tuoke.leads.services``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tuoke.core import custom_fields, lists, saved_views
from tuoke.core import views_saved_views as view_pages
from tuoke.core.models import Action, CustomField
from tuoke.core.scope import can, get_for_action, require
from tuoke.core.views import add_service_error, paginate
from tuoke.customers.matching import format_phone

from . import queries, services
from .forms import BulkForm
from .models import OPEN_STATUSES, Channel, CleaningKind, Lead, LeadStatus

LIST_KEY = "leads"
PAGES = view_pages.ListPages(
    list_key=LIST_KEY,
    url_name="leads:lead_list",
    namespace="leads",
    title=gettext_lazy("Leads"),
)
TARGET = Lead.custom_fields_target


def _leads():
    return Lead.objects.select_related("owner", "channel")


def _assignees(user):
    return services.assignable_users(user).select_related("unit")


# --- Columns ------------------------------------------------------------------------------------

LEAD_SORTS = {
    "created": "created_at",
    "updated": "updated_at",
    "company": "pinyin_full",
    "status": "status",
    "owner": "owner__username",
}

BUILT_IN_COLUMNS = [
    lists.Column("lead", gettext_lazy("Lead"), sort="company", fixed=True),
    lists.Column("contact", gettext_lazy("Contact")),
    lists.Column("channel", gettext_lazy("Channel")),
    lists.Column("status", gettext_lazy("Status"), sort="status"),
    lists.Column("owner", gettext_lazy("Owner"), sort="owner"),
    lists.Column("unit", gettext_lazy("Unit"), default=False),
    lists.Column("region", gettext_lazy("Region"), default=False),
    lists.Column("industry", gettext_lazy("Industry"), default=False),
    lists.Column("phone", gettext_lazy("Landline"), default=False),
    lists.Column("email", gettext_lazy("E-mail"), default=False),
    lists.Column("credit_code", gettext_lazy("Credit code"), default=False),
    lists.Column("created", gettext_lazy("Received"), sort="created"),
    lists.Column("updated", gettext_lazy("Updated"), sort="updated", default=False),
]
CUSTOM_COLUMN_PREFIX = "custom."


def columns_for(fields: list[CustomField]) -> list[lists.Column]:
    """Every column the list can show: the built-in ones, then one per custom field (shown
    by default when the administrator ticked "show in lists")."""
    return BUILT_IN_COLUMNS + [
        lists.Column(CUSTOM_COLUMN_PREFIX + f.key, f.label, default=f.show_in_list) for f in fields
    ]


EMPTY_CELL = mark_safe('<span class="text-secondary">—</span>')


def _text(value) -> SafeString:
    text = str(value) if value is not None else ""
    return format_html("{}", text) if text else EMPTY_CELL


class CellRenderer:
    """The HTML of each cell, written in Python as the customer list's: the columns vary per
    user, and a template would look each one up per row."""

    def __init__(self, fields: list[CustomField]):
        self.custom = {CUSTOM_COLUMN_PREFIX + f.key: f for f in fields}
        self.flagged = format_html(
            '<span class="badge bg-red-lt ms-1" data-testid="flagged" title="{}">{}</span>',
            _("Looks like a lead or customer already there"),
            _("duplicate?"),
        )
        self._badges: dict[tuple[str, str], SafeString] = {}

    def badge(self, lead: Lead) -> SafeString:
        """The status badge, rendered once per status (and cleaning kind) and page."""
        key = (lead.status, lead.cleaning_kind)
        if key not in self._badges:
            self._badges[key] = render_to_string("leads/_status.html", {"lead": lead})
        return self._badges[key]

    def render(self, key: str, lead: Lead) -> SafeString:
        if key == "lead":
            company = (
                format_html('<div class="small text-secondary">{}</div>', lead.company_name)
                if lead.company_name and lead.company_name != lead.display_name
                else ""
            )
            return format_html(
                '<div><a href="{}" data-testid="lead-link">{}</a>{}</div>{}',
                reverse("leads:lead_detail", args=[lead.pk]),
                lead.display_name,
                self.flagged if lead.is_flagged else "",
                company,
            )
        if key == "contact":
            mobile = (
                format_html(
                    '<a class="small" href="tel:{}">{}</a>', lead.mobile, format_phone(lead.mobile)
                )
                if lead.mobile
                else ""
            )
            return format_html("<div>{}</div>{}", lead.contact_name or "—", mobile)
        if key == "channel":
            return _text(lead.channel)
        if key == "status":
            return self.badge(lead)
        if key == "owner":
            return _text(lead.owner)
        if key == "unit":
            return _text(lead.owner.unit)
        if key == "region":
            return _text(" · ".join(part for part in (lead.province, lead.city) if part))
        if key == "industry":
            return _text(lead.industry)
        if key == "phone":
            return _text(format_phone(lead.phone) if lead.phone else "")
        if key == "email":
            return _text(lead.email)
        if key == "credit_code":
            return format_html('<span class="font-monospace">{}</span>', lead.credit_code or "—")
        if key in ("created", "updated"):
            moment = timezone.localtime(getattr(lead, f"{key}_at"))
            return format_html(
                '<time datetime="{}" title="{}">{}</time>',
                moment.isoformat(),
                formats.date_format(moment, "Y-m-d H:i"),
                formats.date_format(moment, "Y-m-d"),
            )
        field = self.custom.get(key)
        if field is not None:
            return _text(custom_fields.display_value(field, (lead.custom or {}).get(field.key)))
        return EMPTY_CELL


# --- The list -----------------------------------------------------------------------------------


@login_required
def lead_list(request):
    """Leads within the view scope, searched, filtered, sorted and paged, with the user's
    columns; a saved view or the one he opens the list with."""
    user = request.user
    require(user, "lead", Action.VIEW)
    params = request.GET
    if not params:
        default = saved_views.default_view(user, LIST_KEY)
        if default is not None:
            return redirect(PAGES.view_url(default))
    views = saved_views.views_list(user, LIST_KEY)
    for view in views:
        view.open_url = PAGES.view_url(view)
    current_view = next((v for v in views if str(v.pk) == params.get("view")), None)

    leads = _leads().visible_to(user)
    query = params.get("q", "").strip()[:100]
    if query:
        leads = queries.search(leads, query)
    status = params.get("status", "")
    if status in LeadStatus.values:
        leads = leads.filter(status=status)
    elif status == "open":
        leads = leads.filter(status__in=OPEN_STATUSES)
    else:
        status = ""
    cleaning_kind = params.get("cleaning_kind", "")
    if cleaning_kind in CleaningKind.values:
        leads = leads.filter(cleaning_kind=cleaning_kind)
    else:
        cleaning_kind = ""
    channels = list(Channel.objects.visible_to(user).order_by("-active", "name"))
    channel = next((c for c in channels if str(c.pk) == params.get("channel")), None)
    if channel is not None:
        leads = leads.filter(channel=channel)
    may_assign = can(user, "lead", Action.APPROVE)
    owners = list(_assignees(user)) if may_assign else [user]
    owner = next((o for o in owners if str(o.pk) == params.get("owner")), None)
    if owner is not None:
        leads = leads.filter(owner=owner)
    flagged = params.get("flagged") == "1"
    if flagged:
        leads = queries.flagged(leads)
    fields = custom_fields.fields_for(TARGET)
    leads = custom_fields.filter_queryset(leads, TARGET, params, fields=fields)

    sort, order = lists.ordering(params.get("sort"), LEAD_SORTS, default="-created")
    chosen = params.get(lists.COLUMNS_PARAM) or saved_views.chosen_columns(user, LIST_KEY)
    all_columns = columns_for(fields)
    shown = lists.shown_columns(all_columns, chosen)
    keys = {c.key for c in shown}
    if "unit" in keys:
        leads = leads.select_related("owner__unit")
    page = paginate(request, leads.order_by(*order))

    cells = CellRenderer(fields)
    headers = [(str(c.label), c.key) for c in shown]
    rows = [
        {
            "lead": lead,
            "cells": format_html_join(
                "",
                '<td data-label="{}" data-column="{}">{}</td>',
                ((label, key, cells.render(key, lead)) for label, key in headers),
            ),
        }
        for lead in page.object_list
    ]

    state = params.copy()
    state["sort"] = sort
    state[lists.COLUMNS_PARAM] = lists.columns_param(shown)
    state_query = saved_views.clean_query(state)
    hidden = [c for c in all_columns if not c.fixed and c.key not in keys]
    filtered = bool(query or status or cleaning_kind or channel or owner or flagged)
    return render(
        request,
        "leads/lead_list.html",
        {
            "page_obj": page,
            "rows": rows,
            "columns": shown,
            "column_choices": [(c, True) for c in shown if not c.fixed]
            + [(c, False) for c in hidden],
            "cols": lists.columns_param(shown),
            "query": query,
            "status": status,
            "statuses": LeadStatus.choices,
            "cleaning_kind": cleaning_kind,
            "cleaning_kinds": CleaningKind.choices,
            "channels": channels,
            "channel": channel,
            "owners": owners,
            "owner": owner,
            "flagged": flagged,
            "sort": sort,
            "filtered": filtered,
            "views": views,
            "current_view": current_view,
            "view_param": params.get("view", ""),
            "modified": current_view is not None and state_query != current_view.query,
            "state_query": state_query,
            "back_query": params.urlencode(),
            "pages": PAGES,
            "may_create": can(user, "lead", Action.CREATE),
            "may_assign": may_assign,
            "may_clean": can(user, "lead", Action.EDIT),
            "may_rules": can(user, "assignment_rule", Action.VIEW),
        },
    )


@login_required
def lead_bulk(request):
    """Assign or clean the leads chosen in the list: first a confirmation, then the action."""
    user = request.user
    if request.method != "POST":
        return redirect("leads:lead_list")
    data = request.POST.copy()
    if not data.get("ids"):
        data["ids"] = ",".join(request.POST.getlist("lead"))
    assignees = _assignees(user)
    form = BulkForm(data, assignees=assignees)
    back = request.POST.get("next") or reverse("leads:lead_list")
    if not back.startswith("/") or back.startswith("//"):
        back = reverse("leads:lead_list")
    if not form.is_valid():
        return render(
            request,
            "leads/lead_bulk.html",
            {"form": form, "leads": [], "back": back},
            status=400,
        )
    action = form.cleaned_data["action"]
    ids = form.cleaned_data["ids"]
    needed = Action.APPROVE if action == "assign" else Action.EDIT
    leads = list(_leads().visible_to(user, needed).filter(pk__in=ids).order_by("-created_at"))
    missing = set(ids) - {lead.pk for lead in leads}
    if missing:
        get_for_action(user, Lead, min(missing), needed)  # 404 unseen, 403 not allowed
    if form.cleaned_data["confirmed"]:
        try:
            if action == "assign":
                count = services.assign_leads(
                    leads, to=form.cleaned_data["to"], by=user, reason=form.cleaned_data["reason"]
                )
                note = _("%(count)s leads were given to %(name)s.")
                messages.success(request, note % {"count": count, "name": form.cleaned_data["to"]})
            else:
                count = services.clean_leads(
                    leads,
                    kind=form.cleaned_data["kind"],
                    reason=form.cleaned_data["reason"],
                    by=user,
                )
                messages.success(request, _("%(count)s leads were cleaned.") % {"count": count})
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            return redirect(back)
    form.data = form.data.copy()
    form.data["ids"] = ",".join(str(i) for i in ids)
    return render(
        request,
        "leads/lead_bulk.html",
        {
            "form": form,
            "leads": leads,
            "action": action,
            "kind_label": CleaningKind(form.cleaned_data["kind"]).label
            if form.cleaned_data.get("kind")
            else "",
            "back": back,
        },
        status=400 if form.errors else 200,
    )


# --- Saved views and columns (the shared pages of tuoke.core.views_saved_views) ----------------

SAVED_VIEW_ROUTES = view_pages.routes(
    PAGES,
    record_type="lead",
    columns=lambda: columns_for(custom_fields.fields_for(TARGET)),
    prefix="",
)
