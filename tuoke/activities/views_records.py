"""Pages of follow-ups, visits and comments, and the administrators' list of follow-up kinds.

Every record comes in through ``tuoke.core.scope`` (out of scope → 404); every write goes
through ``tuoke.activities.services``."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tuoke.core.errors import Conflict
from tuoke.core.models import Action, Scope
from tuoke.core.scope import can, get_for, may_act_on, require, scope_of
from tuoke.core.views import add_service_error, audit_trail, is_htmx, next_url, paginate
from tuoke.customers.models import Contact, Customer
from tuoke.leads.models import Lead

from . import services
from .forms import (
    CancelVisitForm,
    CheckInForm,
    CommentForm,
    FollowUpForm,
    KindForm,
    OutcomeFields,
    VisitForm,
)
from .models import Comment, FollowUp, FollowUpKind, Task, Visit

PICKER_SIZE = 10
COMMENTS_PAGE_SIZE = 10
MENTION_HINTS = 200


# --- Helpers ------------------------------------------------------------------------------------


def _id(value: Any) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def _customer(user, pk) -> Customer:
    return get_for(user, Customer.objects.select_related("owner"), pk)


def _subject(user, data) -> tuple[Customer | None, Lead | None, Task | None]:
    """The customer or lead (and the task) a page is about, from ``customer``, ``lead`` and
    ``task`` parameters; each within the user's scope, or 404."""
    task = None
    if data.get("task"):
        task = get_for(user, Task.objects.select_related("kind"), data["task"])
    customer_id = data.get("customer") or (task.customer_id if task else None)
    lead_id = data.get("lead") or (task.lead_id if task else None)
    customer = _customer(user, customer_id) if customer_id else None
    lead = get_for(user, Lead, lead_id) if lead_id else None
    return customer, lead, task


def _contacts_of(user, customer: Customer | None):
    if customer is None:
        return None
    return (
        Contact.objects.visible_to(user).filter(customer=customer).order_by(*Contact._meta.ordering)
    )


def _may_change(user, record: FollowUp | Visit, action: str = Action.EDIT) -> bool:
    """The buttons the services would honour, on a record within the user's scope."""
    return may_act_on(user, record, action) and services.may_change(user, record)


# --- Choosing the customer ----------------------------------------------------------------------


def _picker(request, *, target: str):
    """No customer given: search one (htmx) among those the user sees, his latest first."""
    user = request.user
    carried = {k: v for k, v in request.GET.items() if k in ("kind", "next", "task") and v}
    recent = (
        Customer.objects.visible_to(user)
        .filter(owner=user)
        .order_by("-updated_at", "-pk")[:PICKER_SIZE]
    )
    return render(
        request,
        "activities/subject_pick.html",
        {
            "target": target,
            "carried": carried,
            "customers": _picked(recent, target, carried),
            "leads": [],
        },
    )


def _picked(customers, target: str, carried: dict[str, str], leads=()) -> list[dict[str, Any]]:
    url = reverse(f"activities:{target}_create")
    rows = [
        {
            "name": c.display_name,
            "kind": "customer",
            "url": f"{url}?{urlencode({**carried, 'customer': c.pk})}",
        }
        for c in customers
    ]
    rows += [
        {
            "name": lead.display_name,
            "kind": "lead",
            "url": f"{url}?{urlencode({**carried, 'lead': lead.pk})}",
        }
        for lead in leads
    ]
    return rows


@login_required
def subject_search(request):
    """The customers (and, for a follow-up, open leads) matching what was typed (htmx)."""
    from tuoke.customers.queries import search as search_customers
    from tuoke.leads.queries import search as search_leads

    user = request.user
    target = "visit" if request.GET.get("target") == "visit" else "follow_up"
    q = request.GET.get("q", "").strip()[:100]
    carried = {k: v for k, v in request.GET.items() if k in ("kind", "next", "task") and v}
    customers = []
    leads = []
    if q:
        customers = list(
            search_customers(Customer.objects.visible_to(user), q).order_by("-updated_at", "-pk")[
                :PICKER_SIZE
            ]
        )
        if target == "follow_up" and can(user, "lead", Action.VIEW):
            leads = list(
                search_leads(Lead.objects.visible_to(user), q)
                .filter(status__in=("new", "working"))
                .order_by("-created_at", "-pk")[:PICKER_SIZE]
            )
    return render(
        request,
        "activities/_subject_results.html",
        {"rows": _picked(customers, target, carried, leads), "q": q},
    )


# --- Follow-ups ---------------------------------------------------------------------------------


def next_step_dates() -> list[tuple[str, str]]:
    """One-tap dates for the next step: tomorrow, in three days, in a week."""
    today = timezone.localdate()
    return [
        (_("Tomorrow"), (today + timedelta(days=1)).isoformat()),
        (_("In 3 days"), (today + timedelta(days=3)).isoformat()),
        (_("In a week"), (today + timedelta(days=7)).isoformat()),
    ]


def _kind_initial(kinds, wanted: str | None) -> str | None:
    keys = [k.key for k in kinds]
    if wanted in keys:
        return wanted
    return keys[0] if keys else None


@login_required
def follow_up_create(request):
    """Log a follow-up. ``customer``, ``lead``, ``kind`` (a kind's key) and ``task`` pre-fill
    it, so that from a link the rep only types what happened and saves. ``compact=1`` (or an
    htmx request) gives the short form alone, for a phone's sheet."""
    user = request.user
    require(user, FollowUp.record_type, Action.CREATE)
    data = request.POST if request.method == "POST" else request.GET
    customer, lead, task = _subject(user, data)
    if customer is None and lead is None:
        return _picker(request, target="follow_up")
    kinds = list(services.active_kinds())
    wanted = data.get("kind") or (task.kind.key if task and task.kind else None)
    form = FollowUpForm(
        request.POST or None,
        kinds=services.active_kinds(),
        contacts=_contacts_of(user, customer),
        initial={"kind": _kind_initial(kinds, wanted)},
    )
    compact = is_htmx(request) or data.get("compact") == "1"
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            follow_up = services.log_follow_up(
                by=user,
                customer=customer,
                lead=lead,
                kind=values["kind"],
                happened_at=values.get("happened_at"),
                task=task,
                **form.outcome(),
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            if is_htmx(request):
                response = render(
                    request, "activities/_follow_up_logged.html", {"follow_up": follow_up}
                )
                response["HX-Trigger"] = "follow-up-logged"
                return response
            messages.success(request, _("Follow-up logged."))
            return redirect(next_url(request, services.subject_url(customer, lead)))
    context = {
        "form": form,
        "follow_up": None,
        "customer": customer,
        "lead": lead,
        "task": task,
        "kinds": kinds,
        "next": next_url(request, ""),
        "subject_url": services.subject_url(customer, lead),
        "next_dates": next_step_dates(),
    }
    if compact:
        return render(request, "activities/_follow_up_quick.html", context)
    return render(request, "activities/follow_up_form.html", context)


def _follow_ups():
    return FollowUp.objects.select_related("kind", "owner", "customer", "lead").prefetch_related(
        "contacts"
    )


@login_required
def follow_up_detail(request, pk: int):
    user = request.user
    follow_up = get_for(user, _follow_ups(), pk)
    return render(
        request,
        "activities/follow_up_detail.html",
        {
            "follow_up": follow_up,
            "visit": Visit.objects.filter(follow_up=follow_up).first(),
            "subject_url": services.subject_url(follow_up.customer, follow_up.lead),
            "may_edit": _may_change(user, follow_up),
            "may_delete": _may_change(user, follow_up, Action.DELETE),
            "audit_page": audit_trail(request, follow_up),
        },
    )


@login_required
def follow_up_edit(request, pk: int):
    user = request.user
    follow_up = get_for(user, _follow_ups(), pk, Action.EDIT)
    if not _may_change(user, follow_up):
        raise Http404
    kinds = services.active_kinds(keep=follow_up.kind)
    initial = {
        "version": follow_up.version,
        "kind": follow_up.kind.key,
        "content": follow_up.content,
        "happened_at": timezone.localtime(follow_up.happened_at),
        "contacts": list(follow_up.contacts.all()),
        "result": follow_up.result,
        "next_step": follow_up.next_step,
        "next_step_on": follow_up.next_step_on,
    }
    form = FollowUpForm(
        request.POST or None,
        kinds=kinds,
        contacts=_contacts_of(user, follow_up.customer),
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        outcome = form.outcome()
        contacts = outcome.pop("contacts", None)
        try:
            services.update_follow_up(
                follow_up,
                by=user,
                expected_version=values.get("version"),
                kind=values["kind"],
                happened_at=values.get("happened_at"),
                contacts=contacts,
                **outcome,
            )
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Follow-up saved."))
            return redirect("activities:follow_up_detail", pk=follow_up.pk)
    return render(
        request,
        "activities/follow_up_form.html",
        {
            "form": form,
            "follow_up": follow_up,
            "customer": follow_up.customer,
            "lead": follow_up.lead,
            "kinds": list(kinds),
            "next": "",
            "subject_url": services.subject_url(follow_up.customer, follow_up.lead),
            "next_dates": next_step_dates(),
        },
    )


@login_required
def follow_up_delete(request, pk: int):
    user = request.user
    follow_up = get_for(user, _follow_ups(), pk, Action.DELETE)
    if not _may_change(user, follow_up, Action.DELETE):
        raise Http404
    back = services.subject_url(follow_up.customer, follow_up.lead)
    if request.method == "POST":
        services.delete_follow_up(follow_up, by=user)
        messages.success(request, _("The follow-up was moved to the recycle bin."))
        return redirect(back)
    return render(
        request,
        "activities/confirm.html",
        {
            "title": _("Delete this follow-up?"),
            "record": follow_up,
            "text": _("It goes to the recycle bin, with its open next step."),
            "confirm": _("Delete"),
            "danger": True,
            "cancel_url": reverse("activities:follow_up_detail", args=[follow_up.pk]),
        },
    )


# --- Visits -------------------------------------------------------------------------------------

VISIT_STATUSES = ("planned", "done", "cancelled", "all")


@login_required
def visit_list(request):
    """My visits (or my team's, for a manager): planned ones soonest first, the others newest
    first; filtered by status, customer name and dates."""
    user = request.user
    require(user, Visit.record_type, Action.VIEW)
    status = request.GET.get("status", "planned")
    if status not in VISIT_STATUSES:
        status = "planned"
    may_see_team = scope_of(user, Visit.record_type, Action.VIEW) > Scope.OWN
    whose = "team" if may_see_team and request.GET.get("whose") == "team" else "mine"
    visits = Visit.objects.visible_to(user).select_related("customer", "owner", "follow_up")
    if whose == "mine":
        visits = visits.filter(owner=user)
    if status != "all":
        visits = visits.filter(status=status)
    since = _date(request.GET.get("since"))
    until = _date(request.GET.get("until"))
    visits = visits.filter(services.on_days("planned_at", since, until))
    q = request.GET.get("q", "").strip()[:100]
    if q:
        visits = visits.filter(
            Q(customer__short_name__icontains=q) | Q(customer__legal_name__icontains=q)
        )
    order = ("planned_at", "pk") if status == "planned" else ("-planned_at", "-pk")
    page = paginate(request, visits.order_by(*order))
    return render(
        request,
        "activities/visit_list.html",
        {
            "page_obj": page,
            "status": status,
            "statuses": [
                ("planned", _("Planned")),
                ("done", _("Done")),
                ("cancelled", _("Cancelled")),
                ("all", _("All")),
            ],
            "whose": whose,
            "may_see_team": may_see_team,
            "since": since,
            "until": until,
            "q": q,
            "filtered": bool(since or until or q),
            "today": timezone.localdate(),
            "may_plan": can(user, Visit.record_type, Action.CREATE),
        },
    )


def _date(value):
    from django.utils.dateparse import parse_date

    try:
        return parse_date(value or "")
    except ValueError:
        return None


@login_required
def visit_create(request):
    """Plan a visit to a customer (from the customer page: ``?customer=``)."""
    user = request.user
    require(user, Visit.record_type, Action.CREATE)
    data = request.POST if request.method == "POST" else request.GET
    if not data.get("customer"):
        return _picker(request, target="visit")
    customer = _customer(user, data["customer"])
    form = VisitForm(request.POST or None, contacts=_contacts_of(user, customer))
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            visit = services.plan_visit(
                by=user,
                customer=customer,
                planned_at=values["planned_at"],
                purpose=values["purpose"],
                contacts=values["contacts"],
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Visit planned."))
            return redirect("activities:visit_detail", pk=visit.pk)
    return render(request, "activities/visit_form.html", {"form": form, "customer": customer})


def _visits():
    return Visit.objects.select_related(
        "customer", "owner", "follow_up", "follow_up__kind"
    ).prefetch_related("contacts")


def _visit_page(request, visit: Visit, **forms) -> HttpResponse:
    user = request.user
    is_owner = visit.owner_id == user.pk
    planned = visit.status == Visit.Status.PLANNED
    complete_form = forms.get("complete_form") or OutcomeFields(
        contacts=_contacts_of(user, visit.customer),
        initial={"contacts": list(visit.contacts.all())},
    )
    return render(
        request,
        "activities/visit_detail.html",
        {
            "visit": visit,
            "is_owner": is_owner,
            "may_check_in": is_owner and planned and visit.checked_in_at is None,
            "may_complete": is_owner and planned,
            "may_cancel": planned and _may_change(user, visit),
            "check_in_form": forms.get("check_in_form") or CheckInForm(),
            "complete_form": complete_form,
            "next_dates": next_step_dates(),
            "audit_page": audit_trail(request, visit),
        },
        status=400 if forms else 200,
    )


@login_required
def visit_detail(request, pk: int):
    return _visit_page(request, get_for(request.user, _visits(), pk))


@login_required
@require_POST
def visit_check_in(request, pk: int):
    """The rep arrived: now, with the place the page's script got from the browser if any."""
    user = request.user
    visit = get_for(user, _visits(), pk, Action.EDIT)
    form = CheckInForm(request.POST)
    if not form.is_valid():
        return _visit_page(request, visit, check_in_form=form)
    values = form.cleaned_data
    try:
        services.check_in(
            visit,
            values.get("latitude"),
            values.get("longitude"),
            values.get("accuracy_m"),
            values.get("address", ""),
            by=user,
        )
    except ValidationError as exc:
        add_service_error(form, exc)
        return _visit_page(request, visit, check_in_form=form)
    at = timezone.localtime(visit.checked_in_at).strftime("%H:%M")
    if visit.latitude is not None:
        messages.success(request, _("Checked in at %(time)s with your location.") % {"time": at})
    elif values.get("geo_error"):
        messages.warning(
            request,
            _("Checked in at %(time)s without your location: the browser did not share it.")
            % {"time": at},
        )
    else:
        messages.success(request, _("Checked in at %(time)s.") % {"time": at})
    return redirect("activities:visit_detail", pk=visit.pk)


@login_required
@require_POST
def visit_complete(request, pk: int):
    """The visit is done: its follow-up is logged from the form on the visit page."""
    user = request.user
    visit = get_for(user, _visits(), pk, Action.EDIT)
    form = OutcomeFields(request.POST, contacts=_contacts_of(user, visit.customer))
    if form.is_valid():
        outcome = form.outcome()
        try:
            services.complete_visit(
                visit,
                outcome["content"],
                outcome["result"],
                outcome["next_step"],
                outcome["next_step_on"],
                by=user,
                contacts=outcome.get("contacts"),
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Visit done; its follow-up is logged."))
            return redirect("activities:visit_detail", pk=visit.pk)
    return _visit_page(request, visit, complete_form=form)


@login_required
def visit_cancel(request, pk: int):
    user = request.user
    visit = get_for(user, _visits(), pk, Action.EDIT)
    if not _may_change(user, visit):
        raise Http404
    form = CancelVisitForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            services.cancel_visit(visit, by=user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("The visit was cancelled."))
            return redirect("activities:visit_detail", pk=visit.pk)
    return render(
        request,
        "activities/confirm.html",
        {
            "title": _("Cancel this visit?"),
            "record": visit,
            "text": _("The visit stays in the list as cancelled."),
            "form": form,
            "error": error,
            "confirm": _("Cancel the visit"),
            "danger": True,
            "cancel_url": reverse("activities:visit_detail", args=[visit.pk]),
        },
    )


# --- Comments -----------------------------------------------------------------------------------


def highlight_mentions(comment: Comment) -> SafeString:
    """The comment's text with the @mentions it resolved marked (escaped, line breaks kept)."""
    body = comment.body
    parts: list[str] = []
    at = 0
    for start, end, person in services.mention_spans(body, comment.mentions.all()):
        parts.append(linebreaksbr(escape(body[at:start])))
        parts.append(
            f'<span class="badge bg-blue-lt mention" data-testid="mention" '
            f'title="{escape(person.username)}">{escape(body[start:end])}</span>'
        )
        at = end
    parts.append(linebreaksbr(escape(body[at:])))
    return mark_safe("".join(parts))  # noqa: S308 (every piece is escaped above)


def _comment_subject(user, data) -> tuple[Customer | None, Lead | None]:
    customer_id, lead_id = _id(data.get("customer")), _id(data.get("lead"))
    if customer_id:
        return _customer(user, customer_id), None
    if lead_id:
        return None, get_for(user, Lead, lead_id)
    raise Http404


def _comments_context(request, customer, lead, form=None) -> dict[str, Any]:
    user = request.user
    comments = Comment.objects.visible_to(user)
    comments = (
        comments.filter(customer=customer) if customer is not None else comments.filter(lead=lead)
    )
    page = paginate(
        request,
        comments.select_related("author")
        .prefetch_related("mentions")
        .order_by("-created_at", "-pk"),
        per_page=COMMENTS_PAGE_SIZE,
        param="comments_page",
        count_cap=None,
    )
    for comment in page.object_list:
        comment.rendered = highlight_mentions(comment)
        comment.may_delete = services.may_delete_comment(user, comment)
    may_comment = can(user, Comment.record_type, Action.CREATE)
    people = []
    if may_comment:
        people = [
            {"name": str(p), "username": p.username}
            for p in services.mentionable(user).exclude(pk=user.pk)[:MENTION_HINTS]
        ]
    subject = {"customer": customer.pk} if customer is not None else {"lead": lead.pk}
    return {
        "comments_page": page,
        "comment_form": form or CommentForm(),
        "may_comment": may_comment,
        "people_json": json.dumps(people, ensure_ascii=False),
        "subject_query": urlencode(subject),
        "subject": subject,
    }


@login_required
def comment_list(request):
    """The comments card's content for ``?customer=`` or ``?lead=`` (htmx), newest first."""
    customer, lead = _comment_subject(request.user, request.GET)
    return render(request, "activities/_comments.html", _comments_context(request, customer, lead))


@login_required
@require_POST
def comment_create(request):
    user = request.user
    require(user, Comment.record_type, Action.CREATE)
    customer, lead = _comment_subject(user, request.POST)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.add_comment(
                by=user, customer=customer, lead=lead, body=form.cleaned_data["body"]
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            form = None
    if not is_htmx(request):
        if form is not None:
            messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect(services.subject_url(customer, lead) + "#comments")
    context = _comments_context(request, customer, lead, form)
    return render(request, "activities/_comments.html", context)


@login_required
def comment_delete(request, pk: int):
    user = request.user
    comment = get_for(user, Comment.objects.select_related("customer", "lead"), pk)
    if not services.may_delete_comment(user, comment):
        raise Http404
    if request.method == "POST":
        services.delete_comment(comment, by=user)
        if is_htmx(request):
            return render(
                request,
                "activities/_comments.html",
                _comments_context(request, comment.customer, comment.lead),
            )
        messages.success(request, _("The comment was deleted."))
        return redirect(services.subject_url(comment.customer, comment.lead) + "#comments")
    return render(
        request,
        "activities/confirm.html",
        {
            "title": _("Delete this comment?"),
            "record": comment,
            "text": comment.body,
            "confirm": _("Delete"),
            "danger": True,
            "cancel_url": services.subject_url(comment.customer, comment.lead) + "#comments",
        },
    )


# --- Follow-up kinds (administrators) -----------------------------------------------------------


def _kind_for(user, pk) -> FollowUpKind:
    # Everyone reads kinds; only who administers them reaches these pages (others: 404).
    return get_for(user, FollowUpKind.objects.all(), pk, Action.ADMINISTER)


@login_required
def kind_list(request):
    user = request.user
    require(user, FollowUpKind.record_type, Action.ADMINISTER)
    form = KindForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            kind = services.create_kind(
                by=user,
                name=form.cleaned_data["name"],
                icon=form.cleaned_data["icon"] or "message",
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Kind “%(name)s” added.") % {"name": kind.label})
            return redirect("activities:kind_list")
    kinds = list(FollowUpKind.objects.order_by("sort_order", "pk"))
    return render(request, "activities/kind_list.html", {"kinds": kinds, "form": form})


@login_required
def kind_edit(request, pk: int):
    user = request.user
    kind = _kind_for(user, pk)
    form = KindForm(
        request.POST or None,
        initial={"version": kind.version, "name": kind.label, "icon": kind.icon},
    )
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            services.update_kind(
                kind,
                by=user,
                expected_version=values.get("version"),
                name=values["name"],
                icon=values["icon"],
            )
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Kind “%(name)s” saved.") % {"name": kind.label})
            return redirect("activities:kind_list")
    return render(request, "activities/kind_form.html", {"kind": kind, "form": form})


@login_required
@require_POST
def kind_toggle(request, pk: int):
    user = request.user
    kind = _kind_for(user, pk)
    try:
        services.set_kind_active(kind, by=user, active=not kind.active)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("activities:kind_list")


@login_required
@require_POST
def kind_move(request, pk: int):
    user = request.user
    kind = _kind_for(user, pk)
    services.move_kind(kind, by=user, step=-1 if request.POST.get("direction") == "up" else 1)
    return redirect("activities:kind_list")
