"""The lead list: search, filters, sort, pages, and bulk assign / clean with a confirmation.
Every lead comes from ``Lead.objects.visible_to(user)``; writes go through
``tuoke.leads.services``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from tuoke.core import custom_fields, lists
from tuoke.core.models import Action
from tuoke.core.scope import can, get_for_action, require
from tuoke.core.views import add_service_error, paginate

from . import queries, services
from .forms import BulkForm
from .models import Channel, CleaningKind, Lead, LeadStatus


def _leads():
    return Lead.objects.select_related("owner", "channel")


def _assignees(user):
    return services.assignable_users(user).select_related("unit")


# --- Lead list ----------------------------------------------------------------------------------

LEAD_SORTS = {
    "created": "created_at",
    "updated": "updated_at",
    "company": "pinyin_full",
    "status": "status",
    "owner": "owner__username",
}


@login_required
def lead_list(request):
    """Leads within the view scope: search, filters, sort, pages, and bulk assign / clean."""
    user = request.user
    require(user, "lead", Action.VIEW)
    leads = _leads().visible_to(user)
    query = request.GET.get("q", "").strip()[:100]
    if query:
        leads = queries.search(leads, query)
    status = request.GET.get("status", "")
    if status in LeadStatus.values:
        leads = leads.filter(status=status)
    elif status == "open":
        leads = leads.filter(status__in=[LeadStatus.NEW, LeadStatus.WORKING])
    else:
        status = ""
    cleaning_kind = request.GET.get("cleaning_kind", "")
    if cleaning_kind in CleaningKind.values:
        leads = leads.filter(cleaning_kind=cleaning_kind)
    else:
        cleaning_kind = ""
    channels = list(Channel.objects.visible_to(user).order_by("-active", "name"))
    channel = next((c for c in channels if str(c.pk) == request.GET.get("channel")), None)
    if channel is not None:
        leads = leads.filter(channel=channel)
    may_assign = can(user, "lead", Action.APPROVE)
    owners = list(_assignees(user)) if may_assign else [user]
    owner = next((o for o in owners if str(o.pk) == request.GET.get("owner")), None)
    if owner is not None:
        leads = leads.filter(owner=owner)
    flagged = request.GET.get("flagged") == "1"
    if flagged:
        leads = queries.flagged(leads)
    leads = custom_fields.filter_queryset(leads, Lead.custom_fields_target, request.GET)
    sort, order = lists.ordering(request.GET.get("sort"), LEAD_SORTS, default="-created")
    page = paginate(request, leads.order_by(*order))
    filtered = bool(query or status or cleaning_kind or channel or owner or flagged)
    return render(
        request,
        "leads/lead_list.html",
        {
            "page_obj": page,
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
