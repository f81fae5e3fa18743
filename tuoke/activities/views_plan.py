"""Pages of tasks and the daily plan: the Today page (a rep's home), the team's plans for
managers, the task list, making and editing a task by hand, and the cadence settings.

Every task comes in through the data scope (``get_for``: 404 outside it); every write goes
through ``tuoke.activities.plan``."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tuoke.core.errors import Conflict
from tuoke.core.models import Action
from tuoke.core.scope import can, get_for_action, may_act_on, require
from tuoke.core.views import add_service_error, is_htmx, next_url, paginate
from tuoke.customers.models import Customer
from tuoke.leads.models import Lead, LeadStatus

from . import plan
from .models import Cadence, FollowUpKind, PlanRun, Task

PICKER_SIZE = 8


# --- Helpers ------------------------------------------------------------------------------------


def _day(request) -> date:
    try:
        return date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        return plan.today()


def _day_context(day: date) -> dict[str, Any]:
    """What a page that steps through days shows of the day (see _day_nav.html)."""
    return {
        "day": day,
        "day_label": plan.day_label(day),
        "is_today": day == plan.today(),
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
    }


def _log_url() -> str:
    return reverse("activities:follow_up_create")


def _subject_url(task: Task) -> str:
    if task.customer_id:
        return reverse("customers:customer_detail", args=[task.customer_id])
    if task.lead_id:
        return reverse("leads:lead_detail", args=[task.lead_id])
    return ""


def _dress(tasks: list[Task], *, day: date, log_url: str | None, back: str) -> list[Task]:
    """What a task's row shows besides its fields: title in the reader's language, the day
    it is due as people say it, how late it is, and the one-tap link that logs it."""
    for task in tasks:
        task.shown_title = plan.shown_title(task)
        task.due_label = plan.day_label(task.due_on, relative_to=day)
        task.late_days = (day - task.due_on).days if task.due_on < day else 0
        task.subject = task.customer or task.lead
        task.subject_url = _subject_url(task)
        task.source_label = plan.source_label(task.source)
        task.log_link = ""
        if log_url and task.subject is not None and task.done_at is None:
            params: dict[str, Any] = {"task": task.pk, "next": back}
            params["customer" if task.customer_id else "lead"] = task.customer_id or task.lead_id
            if task.kind_id:
                params["kind"] = task.kind.key
            task.log_link = f"{log_url}?{urlencode(params)}"
        touched = task.customer.last_follow_up_at if task.customer_id else None
        task.touched_days = (day - timezone.localdate(touched)).days if touched else None
    return tasks


def _plan_context(request, person, day: date) -> dict[str, Any]:
    viewer = request.user
    found = plan.plan_of(viewer, person, day)
    log_url = _log_url() if person.pk == viewer.pk else None
    back = request.get_full_path()
    for group in (found.overdue, found.today, found.upcoming, found.done):
        _dress(group, day=day, log_url=log_url, back=back)
    for customer in found.untouched:
        customer.touched_days = (day - timezone.localdate(customer.touched)).days
        customer.log_link = (
            f"{log_url}?{urlencode({'customer': customer.pk, 'next': back})}" if log_url else ""
        )
    for task in found.today:
        task.due_label = ""  # in the day's own group
    upcoming_days: list[tuple[str, list[Task]]] = []
    for task in found.upcoming:
        if not upcoming_days or upcoming_days[-1][0] != task.due_label:
            upcoming_days.append((task.due_label, []))
        upcoming_days[-1][1].append(task)
    return {
        **_day_context(day),
        "plan": found,
        "person": person,
        "is_self": person.pk == viewer.pk,
        "upcoming_days": upcoming_days,
        "log_url": log_url,
        "may_create": can(viewer, Task.record_type, Action.CREATE),
        "has_team": plan.manages_a_team(viewer),
        "nav_active": "today",
    }


# --- Today and the team -------------------------------------------------------------------------


def render_today(request, day: date | None = None):
    """The user's own plan (also his home page, see tuoke.web.views.home)."""
    return render(
        request, "activities/today.html", _plan_context(request, request.user, day or _day(request))
    )


@login_required
def today(request):
    return render_today(request)


def _team_member(user, pk: int):
    found = plan.team_members(user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


@login_required
def team(request):
    """Each team member's open, overdue and done tasks for a day, with the completion rate."""
    day = _day(request)
    rows = plan.team_day(request.user, day)
    return render(
        request,
        "activities/team_plan.html",
        {
            **_day_context(day),
            "rows": rows,
            "totals": plan.team_total(rows),
            "nav_active": "team",
        },
    )


@login_required
def team_member(request, pk: int):
    """A team member's plan for a day, as his manager sees it."""
    person = _team_member(request.user, pk)
    context = _plan_context(request, person, _day(request))
    context["nav_active"] = "team"
    return render(request, "activities/today.html", context)


@login_required
@require_POST
def task_done(request, pk: int):
    """Tick a task off, or undo it (htmx swaps the row; without it, back to the page)."""
    task = get_for_action(
        request.user, Task.objects.select_related("customer", "lead", "kind"), pk, Action.EDIT
    )
    error = ""
    try:
        if task.done_at is None:
            plan.complete_task(task, by=request.user)
        else:
            plan.reopen_task(task, by=request.user)
    except (ValidationError, Conflict) as exc:
        error = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc.message)
    if is_htmx(request):
        day = plan.today()
        back = next_url(request, reverse("activities:today"))
        _dress(
            [task],
            day=day,
            log_url=_log_url() if task.owner_id == request.user.pk else None,
            back=back,
        )
        return render(
            request,
            "activities/task_item.html",
            {"task": task, "error": error, "may_toggle": True, "next": back},
        )
    if error:
        messages.error(request, error)
    return redirect(next_url(request, reverse("activities:today")))


# --- The task list, making and editing tasks ----------------------------------------------------


STATUS_CHOICES = (
    ("open", gettext_lazy("Open")),
    ("overdue", gettext_lazy("Overdue")),
    ("done", gettext_lazy("Done")),
    ("all", gettext_lazy("All")),
)


@login_required
def task_list(request):
    """The user's tasks (a manager may pick a team member, or the tasks he gave), filtered
    by status and source, searched by title."""
    user = request.user
    require(user, Task.record_type, Action.VIEW)
    status = request.GET.get("status") or "open"
    if status not in dict(STATUS_CHOICES):
        status = "open"
    source = request.GET.get("source", "")
    q = request.GET.get("q", "").strip()[:100]
    members = list(plan.team_members(user).order_by("username"))
    whose = request.GET.get("owner", "")
    tasks = plan.tasks_of(user)
    if whose == "given":
        tasks = tasks.filter(created_by=user).exclude(owner=user)
    elif whose and whose.isdigit() and any(m.pk == int(whose) for m in members):
        tasks = tasks.filter(owner_id=int(whose))
    else:
        whose = ""
        tasks = tasks.filter(owner=user)
    day = plan.today()
    tasks = plan.with_status(tasks, status, day)
    if status == "done":
        tasks = tasks.order_by("-done_at", "-pk")
    elif status == "all":
        tasks = tasks.order_by("-due_on", "-pk")
    else:
        tasks = tasks.order_by("due_on", "pk")
    if source:
        tasks = tasks.filter(source=source)
    if q:
        tasks = tasks.filter(Q(title__icontains=q) | Q(note__icontains=q))
    page = paginate(request, tasks)
    log_url = _log_url() if not whose else None
    _dress(list(page.object_list), day=day, log_url=log_url, back=request.get_full_path())
    sources = [(Task.MANUAL, _("Manual"))] + [(s.key, s.label) for s in plan.sources()]
    return render(
        request,
        "activities/task_list.html",
        {
            "page_obj": page,
            "status": status,
            "status_choices": STATUS_CHOICES,
            "source": source,
            "sources": sources,
            "q": q,
            "whose": whose,
            "members": members,
            "may_create": can(user, Task.record_type, Action.CREATE),
            "nav_active": "tasks",
        },
    )


class TaskForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("What is to be done"), max_length=200)
    due_on = forms.DateField(
        label=gettext_lazy("Due on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    kind = forms.ModelChoiceField(
        label=gettext_lazy("Kind of follow-up"),
        queryset=FollowUpKind.objects.none(),
        required=False,
        to_field_name="key",
        help_text=gettext_lazy("Pre-filled when you log the follow-up from the task."),
    )
    owner = forms.ModelChoiceField(
        label=gettext_lazy("Assignee"), queryset=Task.objects.none(), required=False
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].queryset = FollowUpKind.objects.filter(active=True)
        people = plan.assignable_users(user).order_by("username")
        self.fields["owner"].queryset = people
        if people.count() <= 1:
            del self.fields["owner"]


def _subject_from(user, data) -> tuple[Customer | None, Lead | None]:
    """The customer or lead a task is about, from ``customer``/``lead`` ids, through the
    user's scope (an id he may not see is ignored)."""
    customer = lead = None
    if str(data.get("customer", "")).isdigit():
        customer = Customer.objects.visible_to(user).filter(pk=int(data["customer"])).first()
    if customer is None and str(data.get("lead", "")).isdigit():
        lead = Lead.objects.visible_to(user).filter(pk=int(data["lead"])).first()
    return customer, lead


@login_required
def task_create(request):
    """A task by hand: for oneself, or (managers) for someone in the team; about a customer
    or lead if one is chosen (``?customer=`` pre-fills it)."""
    user = request.user
    require(user, Task.record_type, Action.CREATE)
    data = request.POST if request.method == "POST" else request.GET
    customer, lead = _subject_from(user, data)
    form = TaskForm(
        request.POST or None,
        user=user,
        initial={"due_on": plan.today(), "owner": user.pk, "kind": data.get("kind") or None},
    )
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            task = plan.create_task(
                by=user,
                title=values["title"],
                due_on=values["due_on"],
                owner=values.get("owner") or user,
                note=values["note"],
                kind=values["kind"],
                customer=customer,
                lead=lead,
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Task “%(title)s” was added.") % {"title": task.title})
            return redirect(next_url(request, reverse("activities:today")))
    return render(
        request,
        "activities/task_form.html",
        {
            "form": form,
            "task": None,
            "customer": customer,
            "lead": lead,
            "next": next_url(request, ""),
            "nav_active": "tasks",
        },
    )


@login_required
def task_edit(request, pk: int):
    user = request.user
    task = get_for_action(
        user, Task.objects.select_related("customer", "lead", "kind"), pk, Action.EDIT
    )
    form = TaskForm(
        request.POST or None,
        user=user,
        initial={
            "title": task.title,
            "due_on": task.due_on,
            "kind": task.kind.key if task.kind_id else None,
            "owner": task.owner_id,
            "note": task.note,
            "version": task.version,
        },
    )
    if (
        "owner" in form.fields
        and not form.fields["owner"].queryset.filter(pk=task.owner_id).exists()
    ):
        # Someone he may not give tasks to keeps it (a rep's task seen by a wider manager).
        del form.fields["owner"]
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        changes = {
            "title": values["title"],
            "due_on": values["due_on"],
            "note": values["note"],
            "kind": values["kind"],
        }
        if "owner" in form.fields and values.get("owner") is not None:
            changes["owner"] = values["owner"]
        try:
            plan.update_task(task, by=user, expected_version=values.get("version"), **changes)
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Task “%(title)s” was saved.") % {"title": task.title})
            return redirect(next_url(request, reverse("activities:task_list")))
    return render(
        request,
        "activities/task_form.html",
        {
            "form": form,
            "task": task,
            "customer": task.customer,
            "lead": task.lead,
            "next": next_url(request, ""),
            "may_delete": may_act_on(user, task, Action.DELETE),
            "nav_active": "tasks",
        },
    )


@login_required
def task_delete(request, pk: int):
    task = get_for_action(request.user, Task, pk, Action.DELETE)
    if request.method == "POST":
        plan.delete_task(task, by=request.user)
        messages.success(
            request, _("Task “%(title)s” was moved to the recycle bin.") % {"title": task.title}
        )
        return redirect(next_url(request, reverse("activities:task_list")))
    return render(
        request,
        "activities/task_delete.html",
        {"task": task, "next": next_url(request, ""), "nav_active": "tasks"},
    )


@login_required
def task_subjects(request):
    """The customers and open leads matching what was typed, to choose from (htmx)."""
    from tuoke.customers.queries import search as search_customers
    from tuoke.leads.queries import search as search_leads

    user = request.user
    require(user, Task.record_type, Action.CREATE)
    q = request.GET.get("q", "").strip()[:100]
    customers: list[Customer] = []
    leads: list[Lead] = []
    if q:
        customers = list(
            search_customers(Customer.objects.visible_to(user), q).order_by("-updated_at", "-pk")[
                :PICKER_SIZE
            ]
        )
        if can(user, "lead", Action.VIEW):
            leads = list(
                search_leads(Lead.objects.visible_to(user), q)
                .filter(status__in=(LeadStatus.NEW, LeadStatus.WORKING))
                .order_by("-created_at", "-pk")[:PICKER_SIZE]
            )
    return render(
        request, "activities/task_subjects.html", {"customers": customers, "leads": leads, "q": q}
    )


# --- Cadence settings ---------------------------------------------------------------------------

TIERS = ("A", "B", "C", "")


class CadenceForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for tier in TIERS:
            label = (
                _("Tier %(tier)s customers, every … days") % {"tier": tier}
                if tier
                else _("Customers without a tier, every … days")
            )
            self.fields[f"days_{tier or 'none'}"] = forms.IntegerField(
                label=label,
                required=False,
                min_value=1,
                max_value=365,
                help_text=_("Empty: not planned by cadence."),
            )

    def values(self) -> dict[str, int | None]:
        return {tier: self.cleaned_data.get(f"days_{tier or 'none'}") for tier in TIERS}


@login_required
def cadence_settings(request):
    """How often customers of each tier are followed up (administrators change it); and
    running the plan now."""
    user = request.user
    require(user, Cadence.record_type, Action.VIEW)
    may_edit = can(user, Cadence.record_type, Action.EDIT)
    current = {c.tier: c.days for c in Cadence.objects.all()}
    form = CadenceForm(
        request.POST if request.method == "POST" and "save" in request.POST else None,
        initial={f"days_{t or 'none'}": current.get(t) for t in TIERS},
    )
    if request.method == "POST":
        require(user, Cadence.record_type, Action.EDIT)
        if "run" in request.POST:
            run = plan.generate_plan(plan.today(), trigger="manual")
            messages.success(
                request,
                _("The plan for today was made: %(count)s new tasks.") % {"count": run.created},
            )
            return redirect("activities:plan_settings")
        if form.is_valid():
            try:
                plan.set_cadences(form.values(), by=user)
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("The cadences were saved."))
                return redirect("activities:plan_settings")
    return render(
        request,
        "activities/cadence_settings.html",
        {
            "form": form,
            "may_edit": may_edit,
            "cap": plan.cadence_cap(),
            "runs": PlanRun.objects.all()[:10],
            "sources": plan.sources(),
            "nav_active": "plan_settings",
        },
    )


# --- Navigation ---------------------------------------------------------------------------------


def register_navigation() -> None:
    """The sidebar's entries of these pages (called from ActivitiesConfig.ready)."""
    from tuoke.web.navigation import NavEntry, register

    register(
        NavEntry(
            key="today",
            label=gettext_lazy("Today"),
            url_name="activities:today",
            icon="calendar-check",
            order=1,
            requires=(Task.record_type, Action.VIEW),
        )
    )
    register(
        NavEntry(
            key="tasks",
            label=gettext_lazy("Tasks"),
            url_name="activities:task_list",
            icon="list-check",
            order=5,
            requires=(Task.record_type, Action.VIEW),
        )
    )
    register(
        NavEntry(
            key="team",
            label=gettext_lazy("Team plans"),
            url_name="activities:team",
            icon="users-group",
            order=6,
            requires=(Task.record_type, Action.VIEW),
            check=plan.manages_a_team,
        )
    )
    register(
        NavEntry(
            key="plan_settings",
            label=gettext_lazy("Daily plan"),
            url_name="activities:plan_settings",
            icon="calendar-cog",
            section=gettext_lazy("Settings"),
            order=986,
            requires=(Cadence.record_type, Action.EDIT),
        )
    )
