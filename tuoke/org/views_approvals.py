"""Approval pages: an approver's queue, each request's page (where its approvers decide and its
submitter withdraws it) and the administrators' approval flow settings.

Requests are reached through ``approvals.get_request_for`` (404 outside the user's sight);
deciding needs ``approvals.may_decide`` on top (403 for a viewer who is not the current
approver). Flows are fetched with the ``administer`` action (anyone else: 404). Every write goes
through ``tuoke.org.approvals``."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, Prefetch, Subquery
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tuoke.core.errors import Conflict
from tuoke.core.models import Action
from tuoke.core.money import format_money, reporting_currency
from tuoke.core.scope import can, get_for, may_act_on, require
from tuoke.core.views import add_service_error, is_htmx, next_url, paginate

from . import approvals
from .forms_approvals import OPERATOR_SYMBOLS, DecisionForm, FlowForm, FlowRows, operator_choices
from .models import (
    ApprovalFlow,
    ApprovalMode,
    ApprovalRequest,
    ApprovalRequestStep,
    ApprovalStatus,
    ApprovalStep,
    ApproverKind,
    Role,
    User,
)

BOXES: dict[str, Any] = {
    "queue": gettext_lazy("To decide"),
    "mine": gettext_lazy("Submitted by me"),
    "all": gettext_lazy("All I may see"),
}


# --- Helpers ------------------------------------------------------------------------------------


def _type_labels() -> dict[str, str]:
    return {key: str(target.label) for key, target in approvals.targets().items()}


def _back(request, url: str) -> HttpResponse:
    """After a decision: back to ``url`` (htmx follows it with a full page load)."""
    if is_htmx(request):
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return redirect(url)


def _fact_text(kind: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if kind == "money":
        return format_money(value, reporting_currency())
    if kind == "percent":
        return f"{value}%"
    if kind == "boolean":
        return _("Yes") if value else _("No")
    return str(value)


def _value_text(kind: str, value: Any) -> str:
    """A condition's threshold as typed (a string) in the fact's own way of writing."""
    if kind in ("money", "percent"):
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError):
            return str(value)
        return _fact_text(kind, number.normalize() if kind == "percent" else number)
    return str(value)


def condition_words(target, condition: dict) -> str:
    """A condition as a sentence: "Amount ≥ ¥500,000.00", "Foreign currency is yes"."""
    facts = {fact.key: fact for fact in target.facts} if target is not None else {}
    key = condition.get("fact", "")
    fact = facts.get(key)
    label = str(fact.label) if fact is not None else key
    op = condition.get("op", "")
    words = str(OPERATOR_SYMBOLS.get(op, op))
    if op in ("is_true", "is_false"):
        return f"{label} {words}"
    return f"{label} {words} {_value_text(fact.kind if fact else 'text', condition.get('value'))}"


def step_words(step: ApprovalStep) -> str:
    """Who approves a flow's step, in words."""
    if step.approver_kind == ApproverKind.ROLE:
        who = _("everyone holding the role “%(role)s”") % {"role": step.role or "?"}
        if step.mode == ApprovalMode.ALL:
            return _("%(who)s, all of them") % {"who": who}
        return _("%(who)s, any one of them") % {"who": who}
    if step.approver_kind == ApproverKind.USER:
        return str(step.user or "?")
    return str(ApproverKind(step.approver_kind).label)


# --- Queue --------------------------------------------------------------------------------------


def _current_step_name():
    return Subquery(
        ApprovalRequestStep.objects.filter(
            request=OuterRef("pk"), position=OuterRef("current_step")
        ).values("name")[:1]
    )


@login_required
def queue(request):
    """Requests waiting for the user's decision (the default tab), those he submitted, and all
    he may see; newest first."""
    user = request.user
    box = request.GET.get("box", "queue")
    if box not in BOXES:
        box = "queue"
    status = request.GET.get("status", "")
    if status not in ApprovalStatus.values or box == "queue":
        status = ""
    to_decide = approvals.queue(user)
    if box == "queue":
        requests = to_decide
    elif box == "mine":
        requests = approvals.requests_of(user).filter(owner=user)
    else:
        requests = approvals.requests_of(user)
    if status:
        requests = requests.filter(status=status)
    requests = (
        requests.select_related("owner", "owner__unit")
        .annotate(step_name=_current_step_name())
        .order_by("-submitted_at", "-pk")
    )
    page = paginate(request, requests)
    labels = _type_labels()
    for row in page.object_list:
        row.type_label = labels.get(row.target, row.target)
    # The tab's badge: the page's own count when it is that tab.
    decide_count = page.paginator.count if box == "queue" else to_decide.count()
    return render(
        request,
        "approvals/queue.html",
        {
            "page_obj": page,
            "rows": page.object_list,
            "box": box,
            "boxes": list(BOXES.items()),
            "status": status,
            "statuses": ApprovalStatus.choices,
            "decide_count": decide_count,
            "may_administer": _may_administer(user),
            "nav_active": "approvals",
        },
    )


def _may_administer(user) -> bool:
    return can(user, ApprovalFlow.record_type, Action.ADMINISTER)


# --- A request ----------------------------------------------------------------------------------


def _steps_of(approval: ApprovalRequest) -> list[ApprovalRequestStep]:
    """The request's steps with, for each approver, what he did at that step (from the
    steps, approvers and actions ``get_request_for`` prefetched)."""
    acted = {
        (action.step_id, action.actor_id): action.kind
        for action in approval.actions.all()
        if action.step_id and action.actor_id
    }
    steps = list(approval.steps.all())
    for step in steps:
        step.people = [
            {"user": person, "did": acted.get((step.pk, person.pk), "")}
            for person in step.approvers.all()
        ]
        step.is_current = (
            approval.status == ApprovalStatus.PENDING and step.position == approval.current_step
        )
    return steps


def _record_of(user, approval: ApprovalRequest) -> dict[str, Any]:
    """The record behind the request: a link (for who may open it) and its facts now."""
    target = approvals.targets().get(approval.target)
    record = approvals.record_of(approval)
    url, facts = "", []
    if target is not None and record is not None:
        if getattr(record, "deleted_at", None) is None and may_act_on(user, record, Action.VIEW):
            url = target.url_of(record)
        try:
            values = target.facts_of(record)
        except ValidationError:  # e.g. no exchange rate for its currency today
            values = {}
        facts = [
            {"key": fact.key, "label": fact.label, "text": _fact_text(fact.kind, values[fact.key])}
            for fact in target.facts
            if fact.key in values
        ]
    return {
        "type_label": str(target.label) if target is not None else approval.target,
        "record": record,
        "url": url,
        "facts": facts,
    }


def _detail_context(request, approval: ApprovalRequest, **extra) -> dict[str, Any]:
    user = request.user
    context = {
        "approval": approval,
        "steps": _steps_of(approval),
        "actions": list(approval.actions.all()),
        "may_decide": approvals.may_decide(user, approval),
        "may_withdraw": approvals.may_withdraw(user, approval),
        "form": DecisionForm(),
        "decision": "",
        "nav_active": "approvals",
        **_record_of(user, approval),
    }
    context.update(extra)
    return context


@login_required
def request_detail(request, pk: int):
    approval = approvals.get_request_for(request.user, pk)
    return render(request, "approvals/request_detail.html", _detail_context(request, approval))


DECISIONS = {
    "approve": (approvals.approve, False, gettext_lazy("“%(title)s” was approved.")),
    "reject": (approvals.reject, True, gettext_lazy("“%(title)s” was rejected.")),
    "return": (
        approvals.return_for_changes,
        True,
        gettext_lazy("“%(title)s” was returned for changes."),
    ),
    "withdraw": (approvals.withdraw, False, gettext_lazy("“%(title)s” was withdrawn.")),
}


def _decide(request, pk: int, decision: str):
    approval = approvals.get_request_for(request.user, pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if decision == "withdraw":
        if approval.owner_id != request.user.pk:
            raise PermissionDenied(_("Only the person who submitted the request may withdraw it."))
    elif not approvals.may_decide(request.user, approval):
        raise PermissionDenied(_("This request is not waiting for your decision."))
    act, comment_required, done = DECISIONS[decision]
    form = DecisionForm(request.POST, comment_required=comment_required)
    if form.is_valid():
        try:
            act(approval, by=request.user, comment=form.cleaned_data["comment"])
        except (ValidationError, Conflict) as exc:
            _comment_error(form, exc)
        else:
            messages.success(request, str(done) % {"title": approval.title})
            detail = reverse("approvals:request_detail", args=[approval.pk])
            return _back(request, next_url(request, detail))
    approval = approvals.get_request_for(request.user, pk)  # as it is now
    return render(
        request,
        "approvals/request_detail.html",
        _detail_context(request, approval, form=form, decision=decision),
        status=400,
    )


def _comment_error(form, exc: ValidationError | Conflict) -> None:
    """A refusal shown at the comment field, where the approver is typing."""
    if isinstance(exc, Conflict):
        form.add_error("comment", str(exc.message))
        return
    for message in exc.messages:
        form.add_error("comment", message)


@login_required
def request_approve(request, pk: int):
    return _decide(request, pk, "approve")


@login_required
def request_reject(request, pk: int):
    return _decide(request, pk, "reject")


@login_required
def request_return(request, pk: int):
    return _decide(request, pk, "return")


@login_required
def request_withdraw(request, pk: int):
    return _decide(request, pk, "withdraw")


# --- Flow settings ------------------------------------------------------------------------------


def _flows():
    return ApprovalFlow.objects.prefetch_related(
        Prefetch(
            "steps",
            queryset=ApprovalStep.objects.select_related("role", "user").order_by(
                "sort_order", "pk"
            ),
        )
    )


def _flow_for(user, pk: int, queryset=None) -> ApprovalFlow:
    return get_for(user, queryset if queryset is not None else _flows(), pk, Action.ADMINISTER)


@login_required
def flow_list(request):
    """The flows of each record type in the order they are tried, with their conditions and
    steps in words; deleted ones to restore."""
    require(request.user, ApprovalFlow.record_type, Action.ADMINISTER)
    registered = approvals.targets()
    flows = list(_flows().order_by("target", "sort_order", "pk"))
    groups: dict[str, dict[str, Any]] = {
        key: {"key": key, "label": str(target.label), "flows": []}
        for key, target in registered.items()
    }
    for flow in flows:
        target = registered.get(flow.target)
        flow.condition_words = [condition_words(target, c) for c in flow.conditions or []]
        flow.step_list = [{"name": s.name, "who": step_words(s)} for s in flow.steps.all()]
        group = groups.setdefault(
            flow.target, {"key": flow.target, "label": flow.target, "flows": []}
        )
        group["flows"].append(flow)
    for group in groups.values():
        last = len(group["flows"]) - 1
        for index, flow in enumerate(group["flows"]):
            flow.is_first, flow.is_last = index == 0, index == last
    deleted = ApprovalFlow.all_objects.deleted().order_by("-deleted_at")[:20]
    return render(
        request,
        "approvals/flow_list.html",
        {
            "groups": list(groups.values()),
            "deleted": list(deleted),
            "nav_active": "approval_flows",
        },
    )


def _editor_context(form: FlowForm, rows: FlowRows, flow: ApprovalFlow | None) -> dict[str, Any]:
    registered = approvals.targets()
    facts = {
        key: [{"key": f.key, "label": str(f.label), "kind": f.kind} for f in target.facts]
        for key, target in registered.items()
    }
    roles = list(Role.objects.order_by("name"))
    people = list(User.objects.filter(is_active=True).select_related("unit").order_by("pk"))
    return {
        "form": form,
        "rows": rows,
        "flow": flow,
        "facts": facts,
        "catalog": {
            "facts": facts,
            "operators": approvals.OPERATORS_BY_KIND,
            "labels": operator_choices(),
            "currency": reporting_currency(),
        },
        "kinds": ApproverKind.choices,
        "modes": ApprovalMode.choices,
        "roles": roles,
        "people": people,
        "reporting_currency": reporting_currency(),
        "nav_active": "approval_flows",
    }


def _save_flow(request, form: FlowForm, rows: FlowRows, flow: ApprovalFlow | None):
    """Create or update the flow from a valid form; errors put at their rows and fields."""
    data = form.cleaned_data
    facts = {
        "name": data["name"],
        "target": data["target"],
        "description": data["description"],
        "active": data["active"],
        "conditions": rows.conditions,
        "steps": rows.steps,
    }
    try:
        if flow is None:
            return approvals.create_flow(by=request.user, **facts)
        return approvals.update_flow(flow, by=request.user, version=data.get("version"), **facts)
    except Conflict as exc:
        form.add_error(None, str(exc.message))
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            rest = rows.add_errors(exc.error_dict)
            if rest:
                add_service_error(form, ValidationError(rest))
        else:
            form.add_error(None, exc)
    return None


def _flow_editor(request, flow: ApprovalFlow | None):
    if request.method == "POST":
        form = FlowForm(request.POST)
        rows = FlowRows.from_post(request.POST)
        if form.is_valid():
            saved = _save_flow(request, form, rows, flow)
            if saved is not None:
                messages.success(request, _("Flow “%(name)s” was saved.") % {"name": saved.name})
                return redirect(reverse("approvals:flow_list") + f"#flow-{saved.pk}")
        status = 400
    else:
        if flow is None:
            first = next(iter(approvals.targets()), "")
            form = FlowForm(initial={"active": True, "target": first})
            rows = FlowRows.blank()
        else:
            form = FlowForm(initial=FlowForm.initial_for(flow))
            rows = FlowRows.from_flow(flow)
        status = 200
    return render(
        request, "approvals/flow_form.html", _editor_context(form, rows, flow), status=status
    )


@login_required
def flow_create(request):
    require(request.user, ApprovalFlow.record_type, Action.ADMINISTER)
    return _flow_editor(request, None)


@login_required
def flow_edit(request, pk: int):
    return _flow_editor(request, _flow_for(request.user, pk))


@login_required
def flow_delete(request, pk: int):
    flow = _flow_for(request.user, pk, ApprovalFlow.objects.all())
    refusal = ""
    if request.method == "POST":
        try:
            approvals.delete_flow(flow, by=request.user)
        except ValidationError as exc:
            refusal = " ".join(exc.messages)
        else:
            messages.success(request, _("Flow “%(name)s” was deleted.") % {"name": flow.name})
            return redirect("approvals:flow_list")
    return render(
        request,
        "approvals/flow_delete.html",
        {"flow": flow, "refusal": refusal, "nav_active": "approval_flows"},
        status=400 if refusal else 200,
    )


@login_required
@require_POST
def flow_restore(request, pk: int):
    flow = _flow_for(request.user, pk, ApprovalFlow.all_objects.deleted())
    try:
        approvals.restore_flow(flow, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("approvals:flow_list")
    messages.success(request, _("Flow “%(name)s” was restored.") % {"name": flow.name})
    return redirect(reverse("approvals:flow_list") + f"#flow-{flow.pk}")


@login_required
@require_POST
def flow_move(request, pk: int):
    """One place earlier (``direction=up``) or later among the flows of its record type."""
    flow = _flow_for(request.user, pk, ApprovalFlow.objects.all())
    try:
        approvals.move_flow(flow, up=request.POST.get("direction") != "down", by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _back(request, reverse("approvals:flow_list") + f"#flow-{flow.pk}")
