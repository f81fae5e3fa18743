"""Pages for leads (create and edit with the duplicate warning, the lead page, cleaning,
assignment, conversion), channels with their costs and figures, and the assignment rules; the
lead list is in ``list_views``. Records come in through ``tuoke.core.scope``; writes go through
``tuoke.leads.services``."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tuoke.core import custom_fields
from tuoke.core.errors import Conflict
from tuoke.core.models import Action, Scope
from tuoke.core.scope import (
    can,
    get_for,
    get_for_action,
    may_act_on,
    require,
    scope_of,
)
from tuoke.core.views import add_service_error, audit_trail, paginate
from tuoke.customers import queries as customer_queries
from tuoke.customers.matching import format_phone
from tuoke.customers.models import Customer
from tuoke.org.models import OrgUnit

from . import queries, services
from .forms import (
    NEW_CUSTOMER,
    AssignForm,
    ChannelForm,
    CleanForm,
    ConvertForm,
    CostForm,
    LeadForm,
    RuleForm,
)
from .models import (
    AssignmentMember,
    AssignmentRule,
    Channel,
    ChannelCost,
    ChannelKind,
    CleaningKind,
    Lead,
    LeadStatus,
)

# --- Helpers ------------------------------------------------------------------------------------


def _version(form) -> int | None:
    return form.cleaned_data.get("version")


def _leads():
    return Lead.objects.select_related(
        "owner",
        "channel",
        "converted_customer",
        "converted_contact",
        "duplicate_of__owner",
        "duplicate_customer__owner",
    )


def _assignees(user):
    return services.assignable_users(user).select_related("unit")


def customer_url(customer: Customer) -> str:
    """The customer page, or the customer list while the page does not exist yet."""
    try:
        return reverse("customers:customer_detail", args=[customer.pk])
    except NoReverseMatch:
        return reverse("customers:customer_list")


def _confirm(request, *, title: str, message: str, button: str, cancel: str, danger=False):
    return render(
        request,
        "leads/confirm.html",
        {
            "title": title,
            "message": message,
            "button": button,
            "cancel": cancel,
            "danger": danger,
        },
    )


# --- One lead -----------------------------------------------------------------------------------


def _duplicate_flag(user, lead: Lead) -> dict | None:
    """What the lead was flagged as a duplicate of: name and owner, a link when visible."""
    if lead.duplicate_of_id is not None:
        record, kind = lead.duplicate_of, "lead"
    elif lead.duplicate_customer_id is not None:
        record, kind = lead.duplicate_customer, "customer"
    else:
        return None
    url = None
    if may_act_on(user, record, Action.VIEW):
        url = (
            reverse("leads:lead_detail", args=[record.pk])
            if kind == "lead"
            else customer_url(record)
        )
    return {"kind": kind, "name": record.display_name, "owner": record.owner, "url": url}


def _candidate_rows(user, report) -> list[dict]:
    rows = []
    for c in report.candidates:
        url = None
        if c.visible:
            url = (
                reverse("leads:lead_detail", args=[c.record.pk])
                if c.kind == "lead"
                else customer_url(c.record)
            )
        rows.append(
            {
                "kind": c.kind,
                "same": c.is_same,
                "name": c.name,
                "owner": c.owner,
                "reasons": c.match.reasons,
                "url": url,
                "pk": c.record.pk,
            }
        )
    return rows


@login_required
def lead_detail(request, pk: int):
    user = request.user
    lead = get_for(user, _leads(), pk)
    may_edit = may_act_on(user, lead, Action.EDIT)
    may_assign = may_act_on(user, lead, Action.APPROVE)
    candidates = []
    if lead.is_open and may_edit:
        candidates = _candidate_rows(user, services.duplicates_of(lead, user=user))
    converted_url = None
    if lead.converted_customer_id and may_act_on(user, lead.converted_customer, Action.VIEW):
        converted_url = customer_url(lead.converted_customer)
    return render(
        request,
        "leads/lead_detail.html",
        {
            "lead": lead,
            "custom_values": custom_fields.shown_values(Lead.custom_fields_target, lead.custom),
            "flag": _duplicate_flag(user, lead),
            "candidates": candidates,
            "converted_url": converted_url,
            "may_edit": may_edit and lead.status != LeadStatus.CONVERTED,
            "may_clean": may_edit and lead.status != LeadStatus.CONVERTED,
            "may_convert": may_edit and lead.is_open and can(user, "customer", Action.CREATE),
            "may_assign": may_assign,
            "may_delete": may_act_on(user, lead, Action.DELETE),
            "audit_page": audit_trail(request, lead),
        },
    )


def _duplicate_report(facts: dict, user, exclude: Lead | None = None):
    return services.find_lead_duplicates(
        user=user,
        company_name=facts.get("company_name", ""),
        short_name=facts.get("short_name", ""),
        credit_code=facts.get("credit_code", ""),
        phones=[p for p in (facts.get("mobile"), facts.get("phone")) if p],
        emails=[facts["email"]] if facts.get("email") else [],
        exclude=exclude,
    )


@login_required
def lead_create(request):
    """A new lead. Possible duplicates are shown before saving; the user may save anyway and
    the lead is flagged, so that it can be cleaned as a duplicate."""
    user = request.user
    require(user, "lead", Action.CREATE)
    assignees = _assignees(user) if can(user, "lead", Action.APPROVE) else None
    initial = {}
    if request.GET.get("channel"):
        initial["channel"] = request.GET["channel"]
    form = LeadForm(request.POST or None, assignees=assignees, initial=initial)
    candidates = []
    if request.method == "POST" and form.is_valid():
        facts = form.facts()
        report = _duplicate_report(facts, user)
        if report.candidates and not form.cleaned_data["confirm_duplicates"]:
            candidates = _candidate_rows(user, report)
            form.data = form.data.copy()
            form.data["confirm_duplicates"] = "on"
        else:
            try:
                lead = services.create_lead(
                    by=user,
                    owner=form.cleaned_data.get("owner"),
                    channel=form.cleaned_data["channel"],
                    custom=form.custom_values(),
                    **facts,
                )
            except (ValidationError, PermissionDenied) as exc:
                if isinstance(exc, PermissionDenied):
                    exc = ValidationError({"owner": [str(exc)]})
                add_service_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Lead “%(name)s” was saved and given to %(owner)s.")
                    % {"name": lead.display_name, "owner": lead.owner},
                )
                if not may_act_on(user, lead, Action.VIEW):
                    return redirect("leads:lead_list")
                return redirect("leads:lead_detail", pk=lead.pk)
    return render(
        request,
        "leads/lead_form.html",
        {"form": form, "lead": None, "candidates": candidates},
    )


@login_required
def lead_edit(request, pk: int):
    user = request.user
    lead = get_for_action(user, _leads(), pk, Action.EDIT)
    if lead.status == LeadStatus.CONVERTED:
        messages.error(
            request, _("A converted lead is kept as it was; change the customer instead.")
        )
        return redirect("leads:lead_detail", pk=lead.pk)
    initial = {name: getattr(lead, name) for name in LeadForm.base_fields if hasattr(lead, name)}
    initial.update(
        channel=lead.channel_id,
        version=lead.version,
        status=lead.status if lead.is_open else LeadStatus.NEW,
        **custom_fields.initial_values(Lead.custom_fields_target, lead.custom),
    )
    form = LeadForm(request.POST or None, lead=lead, initial=initial)
    if not lead.is_open:
        del form.fields["status"]
    if request.method == "POST" and form.is_valid():
        changes = {**form.facts(), "channel": form.cleaned_data["channel"]}
        if "status" in form.cleaned_data:
            changes["status"] = form.cleaned_data["status"]
        try:
            changes["custom"] = form.custom_values(current=lead.custom)
            services.update_lead(lead, by=user, expected_version=_version(form), **changes)
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Lead “%(name)s” was saved.") % {"name": lead.display_name})
            return redirect("leads:lead_detail", pk=lead.pk)
    return render(
        request,
        "leads/lead_form.html",
        {"form": form, "lead": lead, "candidates": []},
    )


@login_required
def lead_delete(request, pk: int):
    lead = get_for_action(request.user, Lead, pk, Action.DELETE)
    if request.method == "POST":
        services.delete_lead(lead, by=request.user)
        messages.success(
            request, _("Lead “%(name)s” was moved to the recycle bin.") % {"name": lead}
        )
        return redirect("leads:lead_list")
    return _confirm(
        request,
        title=_("Delete lead “%(name)s”?") % {"name": lead},
        message=_("The lead goes to the recycle bin, where it can be restored with its history."),
        button=_("Delete"),
        cancel=reverse("leads:lead_detail", args=[lead.pk]),
        danger=True,
    )


@login_required
def lead_clean(request, pk: int):
    """Clean a lead as invalid, a duplicate or junk, with a reason."""
    lead = get_for_action(request.user, _leads(), pk, Action.EDIT)
    initial = {"version": lead.version}
    if request.GET.get("kind") in CleaningKind.values:
        initial["kind"] = request.GET["kind"]
    flag = _duplicate_flag(request.user, lead)
    if initial.get("kind") == CleaningKind.DUPLICATE and flag:
        initial["reason"] = _("Same as %(name)s (owner: %(owner)s)") % flag
    form = CleanForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.clean_lead(
                lead,
                kind=form.cleaned_data["kind"],
                reason=form.cleaned_data["reason"],
                by=request.user,
                expected_version=_version(form),
            )
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Lead “%(name)s” was cleaned.") % {"name": lead})
            return redirect("leads:lead_detail", pk=lead.pk)
    return render(request, "leads/lead_clean.html", {"form": form, "lead": lead})


@login_required
def lead_unclean(request, pk: int):
    lead = get_for_action(request.user, Lead, pk, Action.EDIT)
    if request.method == "POST":
        try:
            services.unclean_lead(lead, by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Lead “%(name)s” is back in the work.") % {"name": lead})
        return redirect("leads:lead_detail", pk=lead.pk)
    return _confirm(
        request,
        title=_("Bring “%(name)s” back?") % {"name": lead},
        message=_("The lead becomes new again; the history keeps why it was cleaned."),
        button=_("Bring back"),
        cancel=reverse("leads:lead_detail", args=[lead.pk]),
    )


@login_required
def lead_assign(request, pk: int):
    """Give one lead to a rep by hand."""
    lead = get_for_action(request.user, _leads(), pk, Action.APPROVE)
    form = AssignForm(request.POST or None, assignees=_assignees(request.user))
    if request.method == "POST" and form.is_valid():
        to = form.cleaned_data["to"]
        try:
            services.assign_leads(
                [lead], to=to, by=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("Lead “%(name)s” was given to %(owner)s.") % {"name": lead, "owner": to},
            )
            return redirect("leads:lead_detail", pk=lead.pk)
    return render(request, "leads/lead_assign.html", {"form": form, "lead": lead})


def _conversion_targets(user, report, query: str) -> list[Customer]:
    """Existing customers the lead may be attached to: the visible look-alikes, and those
    found by the user's search (the customer list's); only customers he may edit."""
    ids = [c.record.pk for c in report.candidates if c.kind == "customer" and c.visible]
    editable = Customer.objects.visible_to(user, Action.EDIT).select_related("owner")
    condition = Q(pk__in=ids)
    if query:
        condition |= Q(pk__in=customer_queries.search(editable, query).values("pk"))
    return list(editable.filter(condition).order_by("short_name", "pk")[:20])


def _may_open_opportunity(user) -> bool:
    """Whether the conversion page offers an opportunity too: someone (the sales app) answers
    the conversion's ask, and the user may create opportunities."""
    return services.lead_converted.has_listeners(Lead) and can(user, "opportunity", Action.CREATE)


def _opportunity_initial(lead: Lead) -> dict:
    """The opportunity fields as the sales app would fill them from the lead; ticked when the
    lead tells what they need."""
    from tuoke.sales.services import opportunity_facts_of  # the sales app's rule, read lazily

    facts = opportunity_facts_of(lead)
    return {
        "opportunity": bool((lead.needs or "").strip()),
        "opportunity_title": facts["title"],
        "opportunity_amount": facts["amount"],
    }


@login_required
def lead_convert(request, pk: int):
    """Convert a lead into a new customer and contact (pre-filled from the lead), or attach it
    to an existing customer; the customers' duplicate check applies."""
    user = request.user
    lead = get_for_action(user, _leads(), pk, Action.EDIT)
    if not lead.is_open:
        messages.error(request, _("Only new and working leads can be converted."))
        return redirect("leads:lead_detail", pk=lead.pk)
    require(user, "customer", Action.CREATE)
    report = services.duplicates_of(lead, user=user)
    query = request.GET.get("find", "").strip()[:100]
    targets = _conversion_targets(user, report, query)
    customer_facts = services.customer_facts_of(lead)
    contact = services.contact_facts_of(lead)
    for key in ("mobile", "phone"):
        contact[key] = format_phone(contact[key]) if contact[key] else ""
    initial = {
        "target": NEW_CUSTOMER,
        **customer_facts,
        **{f"contact_{k}": v for k, v in contact.items()},
    }
    with_opportunity = _may_open_opportunity(user)
    if with_opportunity:
        initial.update(_opportunity_initial(lead))
    if request.method == "POST":
        chosen = request.POST.get("target", "")
        if chosen.isdigit() and not any(str(t.pk) == chosen for t in targets):
            # A customer found by an earlier search: it must still be one he may edit.
            extra = Customer.objects.visible_to(user, Action.EDIT).filter(pk=int(chosen)).first()
            if extra is not None:
                targets.append(extra)
    form = ConvertForm(
        request.POST or None, targets=targets, initial=initial, with_opportunity=with_opportunity
    )
    if request.method == "POST" and form.is_valid():
        target = form.cleaned_data["target"]
        customer = None
        if target != NEW_CUSTOMER:
            customer = next(t for t in targets if str(t.pk) == target)
        try:
            result = services.convert_lead(
                lead,
                by=user,
                customer=customer,
                customer_facts=form.customer_facts() if customer is None else None,
                contact_facts=form.contact_facts(),
                allow_similar=form.cleaned_data["allow_similar"],
                opportunity=form.opportunity_facts() if with_opportunity else None,
            )
        except ValidationError as exc:
            by_field = exc.error_dict if hasattr(exc, "error_dict") else {None: exc.error_list}
            for name, errors in by_field.items():
                for error in errors:
                    form.add_error(form.field_for(name) if name else None, error)
        else:
            opportunity = result.opportunity
            if opportunity is None:
                messages.success(
                    request,
                    _("Lead “%(lead)s” was converted into the customer “%(customer)s”.")
                    % {"lead": lead, "customer": result.customer.display_name},
                )
            else:
                messages.success(
                    request,
                    _(
                        "Lead “%(lead)s” was converted into the customer “%(customer)s” "
                        "and the opportunity “%(opportunity)s”."
                    )
                    % {
                        "lead": lead,
                        "customer": result.customer.display_name,
                        "opportunity": opportunity.title,
                    },
                )
                if may_act_on(user, opportunity, Action.VIEW):
                    return redirect(reverse("sales:opportunity_detail", args=[opportunity.pk]))
            if may_act_on(user, result.customer, Action.VIEW):
                return redirect(customer_url(result.customer))
            return redirect("leads:lead_detail", pk=lead.pk)
    return render(
        request,
        "leads/lead_convert.html",
        {
            "form": form,
            "lead": lead,
            "candidates": _candidate_rows(user, report),
            "query": query,
            "with_opportunity": with_opportunity,
        },
    )


# --- Channels -----------------------------------------------------------------------------------


def _period(request) -> tuple[date, date]:
    """The period of the figures: ``start`` and ``end`` (YYYY-MM-DD), by default the last six
    calendar months up to today."""
    today = timezone.localdate()
    start, end = queries.month_start(today, 5), today
    try:
        if request.GET.get("start"):
            start = date.fromisoformat(request.GET["start"])
        if request.GET.get("end"):
            end = date.fromisoformat(request.GET["end"])
    except ValueError:
        start, end = queries.month_start(today, 5), today
    if end < start:
        start, end = end, start
    return start, end


@login_required
def channel_list(request):
    """Channels with what they brought in and cost over a period."""
    user = request.user
    require(user, "channel", Action.VIEW)
    start, end = _period(request)
    channels = list(Channel.objects.visible_to(user))
    return render(
        request,
        "leads/channel_list.html",
        {
            "figures": queries.channel_figures(user=user, start=start, end=end, channels=channels),
            "start": start,
            "end": end,
            "shows_cost": can(user, "channel_cost", Action.VIEW),
            "may_create": can(user, "channel", Action.CREATE),
        },
    )


@login_required
def channel_detail(request, pk: int):
    user = request.user
    channel = get_for(user, Channel, pk)
    start, end = _period(request)
    [figures] = queries.channel_figures(user=user, start=start, end=end, channels=[channel])
    shows_cost = can(user, "channel_cost", Action.VIEW)
    costs = ChannelCost.objects.visible_to(user).filter(channel=channel) if shows_cost else None
    return render(
        request,
        "leads/channel_detail.html",
        {
            "channel": channel,
            "figures": figures,
            "monthly": queries.monthly_figures(user=user, channel=channel),
            "start": start,
            "end": end,
            "shows_cost": shows_cost,
            "cost_page": paginate(request, costs, param="cost_page") if costs is not None else None,
            "may_edit": may_act_on(user, channel, Action.EDIT),
            "may_delete": may_act_on(user, channel, Action.DELETE),
            "may_add_cost": can(user, "channel_cost", Action.CREATE),
            "may_edit_cost": can(user, "channel_cost", Action.EDIT),
            "may_delete_cost": can(user, "channel_cost", Action.DELETE),
            "audit_page": audit_trail(request, channel),
        },
    )


@login_required
def channel_create(request):
    require(request.user, "channel", Action.CREATE)
    form = ChannelForm(request.POST or None, initial={"active": True, "kind": ChannelKind.WEBSITE})
    if request.method == "POST" and form.is_valid():
        try:
            channel = services.create_channel(by=request.user, **form.facts())
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Channel “%(name)s” was created.") % {"name": channel})
            return redirect("leads:channel_detail", pk=channel.pk)
    return render(
        request,
        "leads/channel_form.html",
        {"form": form, "channel": None},
    )


@login_required
def channel_edit(request, pk: int):
    channel = get_for_action(request.user, Channel, pk, Action.EDIT)
    form = ChannelForm(request.POST or None, initial=ChannelForm.initial_for(channel))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_channel(
                channel, by=request.user, expected_version=_version(form), **form.facts()
            )
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Channel “%(name)s” was saved.") % {"name": channel})
            return redirect("leads:channel_detail", pk=channel.pk)
    return render(
        request,
        "leads/channel_form.html",
        {"form": form, "channel": channel},
    )


@login_required
def channel_delete(request, pk: int):
    channel = get_for_action(request.user, Channel, pk, Action.DELETE)
    if request.method == "POST":
        services.delete_channel(channel, by=request.user)
        messages.success(
            request, _("Channel “%(name)s” was moved to the recycle bin.") % {"name": channel}
        )
        return redirect("leads:channel_list")
    return _confirm(
        request,
        title=_("Delete channel “%(name)s”?") % {"name": channel},
        message=_(
            "The channel goes to the recycle bin; its leads and costs keep pointing at it. "
            "To stop new leads from it, make it inactive instead."
        ),
        button=_("Delete"),
        cancel=reverse("leads:channel_detail", args=[channel.pk]),
        danger=True,
    )


@login_required
def cost_create(request, pk: int):
    channel = get_for(request.user, Channel, pk)
    require(request.user, "channel_cost", Action.CREATE)
    today = timezone.localdate()
    initial = {
        "period_start": queries.month_start(today),
        "period_end": queries.month_start(today, -1) - timedelta(days=1),
    }
    form = CostForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_channel_cost(channel, by=request.user, **form.facts())
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("The cost was recorded."))
            return redirect("leads:channel_detail", pk=channel.pk)
    return render(
        request,
        "leads/cost_form.html",
        {"form": form, "channel": channel, "cost": None},
    )


@login_required
def cost_edit(request, pk: int):
    cost = get_for_action(
        request.user, ChannelCost.objects.select_related("channel"), pk, Action.EDIT
    )
    form = CostForm(request.POST or None, initial=CostForm.initial_for(cost))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_channel_cost(
                cost, by=request.user, expected_version=_version(form), **form.facts()
            )
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("The cost was saved."))
            return redirect("leads:channel_detail", pk=cost.channel_id)
    return render(
        request,
        "leads/cost_form.html",
        {"form": form, "channel": cost.channel, "cost": cost},
    )


@login_required
def cost_delete(request, pk: int):
    cost = get_for_action(
        request.user, ChannelCost.objects.select_related("channel"), pk, Action.DELETE
    )
    if request.method == "POST":
        services.delete_channel_cost(cost, by=request.user)
        messages.success(request, _("The cost entry was moved to the recycle bin."))
        return redirect("leads:channel_detail", pk=cost.channel_id)
    return _confirm(
        request,
        title=_("Delete the cost entry %(period)s?")
        % {"period": f"{cost.period_start:%Y-%m-%d} – {cost.period_end:%Y-%m-%d}"},
        message=_("The entry goes to the recycle bin and no longer counts in the figures."),
        button=_("Delete"),
        cancel=reverse("leads:channel_detail", args=[cost.channel_id]),
        danger=True,
    )


# --- Assignment rules ---------------------------------------------------------------------------


def _rule_units(user, action: str):
    """The units a user may make rules for: every unit with scope ALL, else his own unit
    (and those below it with SUBTREE)."""
    scope = scope_of(user, "assignment_rule", action)
    units = OrgUnit.objects.order_by("path")
    if scope == Scope.ALL:
        return units, False
    if user.unit_id is None or scope == Scope.NONE:
        return units.none(), True
    if scope == Scope.SUBTREE:
        return units.filter(path__startswith=user.unit.path), True
    return units.filter(pk=user.unit_id), True


@login_required
def rule_list(request):
    user = request.user
    require(user, "assignment_rule", Action.VIEW)
    members = Prefetch(
        "memberships", queryset=AssignmentMember.objects.select_related("user").order_by("position")
    )
    rules = (
        AssignmentRule.objects.visible_to(user)
        .select_related("channel", "unit", "last_assigned")
        .prefetch_related(members)
        .order_by("-active", "sort_order", "name", "pk")
    )
    page = paginate(request, rules)
    ids = [rule.pk for rule in page.object_list]
    editable, deletable = (
        set(
            AssignmentRule.objects.visible_to(user, action)
            .filter(pk__in=ids)
            .values_list("pk", flat=True)
        )
        for action in (Action.EDIT, Action.DELETE)
    )
    for rule in page.object_list:
        rule.may_edit, rule.may_delete = rule.pk in editable, rule.pk in deletable
    return render(
        request,
        "leads/rule_list.html",
        {
            "page_obj": page,
            "may_create": can(user, "assignment_rule", Action.CREATE),
        },
    )


def _rule_form(request, rule: AssignmentRule | None, action: str, initial=None):
    units, unit_required = _rule_units(request.user, action)
    return RuleForm(
        request.POST or None,
        units=units,
        unit_required=unit_required,
        members=_assignees(request.user),
        initial=initial,
    )


@login_required
def rule_create(request):
    require(request.user, "assignment_rule", Action.CREATE)
    form = _rule_form(request, None, Action.CREATE, initial={"active": True, "sort_order": 0})
    if request.method == "POST" and form.is_valid():
        try:
            rule = services.create_rule(by=request.user, **form.facts())
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Rule “%(name)s” was created.") % {"name": rule})
            return redirect("leads:rule_list")
    return render(
        request,
        "leads/rule_form.html",
        {"form": form, "rule": None},
    )


@login_required
def rule_edit(request, pk: int):
    rule = get_for_action(request.user, AssignmentRule, pk, Action.EDIT)
    initial = {
        "name": rule.name,
        "channel": rule.channel_id,
        "unit": rule.unit_id,
        "members": [m.user_id for m in rule.memberships.all()],
        "active": rule.active,
        "sort_order": rule.sort_order,
        "version": rule.version,
    }
    form = _rule_form(request, rule, Action.EDIT, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_rule(
                rule, by=request.user, expected_version=_version(form), **form.facts()
            )
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Rule “%(name)s” was saved.") % {"name": rule})
            return redirect("leads:rule_list")
    return render(
        request,
        "leads/rule_form.html",
        {
            "form": form,
            "rule": rule,
            "audit_page": audit_trail(request, rule),
        },
    )


@login_required
def rule_delete(request, pk: int):
    rule = get_for_action(request.user, AssignmentRule, pk, Action.DELETE)
    if request.method == "POST":
        services.delete_rule(rule, by=request.user)
        messages.success(
            request, _("Rule “%(name)s” was moved to the recycle bin.") % {"name": rule}
        )
        return redirect("leads:rule_list")
    return _confirm(
        request,
        title=_("Delete rule “%(name)s”?") % {"name": rule},
        message=_("New leads no longer go round its members. The rule can be restored."),
        button=_("Delete"),
        cancel=reverse("leads:rule_list"),
        danger=True,
    )
