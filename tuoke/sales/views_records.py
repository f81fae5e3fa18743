"""Pages for one opportunity: create (from a customer), the opportunity's page (facts, lines,
stage path and history, moves, win, lose, reopen, audit trail), edit and delete; the list is in
``list_views``. Records come in through ``tuoke.core.scope``; every write goes through
``tuoke.sales.services``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tuoke.core import custom_fields
from tuoke.core.errors import Conflict
from tuoke.core.models import Action, Scope
from tuoke.core.scope import can, get_for, get_for_action, may_act_on, require, scope_of
from tuoke.core.views import add_service_error, audit_trail
from tuoke.customers.models import Customer
from tuoke.customers.queries import search as search_customers
from tuoke.org.models import User

from . import services
from .forms import (
    LoseForm,
    MoveForm,
    OpportunityForm,
    ReopenForm,
    WinForm,
    line_formset,
)
from .models import (
    REQUIRABLE_FIELDS,
    LostReason,
    Opportunity,
    OpportunityStatus,
    Product,
    Stage,
    StageKind,
)

PICKER_SIZE = 20
CUSTOMER_CARD_SIZE = 5


def _opportunities():
    return Opportunity.objects.select_related(
        "customer",
        "owner__unit",
        "pipeline",
        "stage",
        "lost_reason",
        "source_lead",
        "channel",
        "created_by",
    )


def _owner_choices(user: User):
    """Whom a creator may make the owner: only people with a scope wider than their own."""
    if scope_of(user, "opportunity", Action.CREATE) <= Scope.OWN:
        return None
    return User.objects.visible_to(user).filter(is_active=True).order_by("username")


def field_label(key: str) -> str:
    """A required field's label as a stage names it ("amount", "custom:budget")."""
    if key.startswith(("custom:", "custom.")):
        wanted = key.split(":", 1)[-1].split(".", 1)[-1]
        field = next(
            (
                f
                for f in custom_fields.fields_for(Opportunity.custom_fields_target)
                if f.key == wanted
            ),
            None,
        )
        return field.label if field else wanted
    return str(REQUIRABLE_FIELDS.get(key, key))


def _form_field(key: str) -> str:
    """The form field that shows a service error keyed ``key``."""
    if key.startswith(("custom:", "custom.")):
        return custom_fields.form_field_name(key.split(":", 1)[-1].split(".", 1)[-1])
    return key


def show_error(form, exc: ValidationError | Conflict, line_errors: list[str]) -> None:
    """A service's refusal on the field it is about; errors about the lines go beside them."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        remapped: dict[str, list] = {}
        for key, errors in exc.error_dict.items():
            if key == "lines":
                line_errors.extend(m for e in errors for m in e.messages)
                continue
            target = _form_field(key)
            remapped.setdefault(target if target in form.fields else "__all__", []).extend(errors)
        if not remapped:
            return
        exc = ValidationError(remapped)
    add_service_error(form, exc)


def _line_rows(formset) -> list[dict[str, Any]]:
    """The lines as the page's script edits them: values typed (or stored) and their errors."""
    rows = []
    for form in formset.forms:
        row = {name: str(form[name].value() or "") for name in LINE_FIELDS}
        row["errors"] = {name: [str(e) for e in errors] for name, errors in form.errors.items()}
        rows.append(row)
    return rows


LINE_FIELDS = ("product", "name", "quantity", "unit_price")


def _products(opportunity: Opportunity | None = None):
    condition = Q(active=True)
    if opportunity is not None:
        condition |= Q(pk__in=opportunity.lines.exclude(product=None).values("product"))
    return Product.objects.filter(condition).order_by("name", "pk")


def _catalogue(products) -> list[dict[str, Any]]:
    return [
        {"id": str(p.pk), "name": p.name, "label": str(p), "price": str(p.price)} for p in products
    ]


# --- Create -------------------------------------------------------------------------------------


def _pick_customer(request):
    """Which customer the new opportunity is for: a search among the user's customers."""
    user = request.user
    q = request.GET.get("q", "").strip()[:100]
    customers = Customer.objects.visible_to(user)
    if q:
        customers = search_customers(customers, q)
    found = list(customers.order_by("-updated_at", "-pk")[:PICKER_SIZE])
    return render(request, "sales/opportunity_pick.html", {"customers": found, "q": q})


@login_required
def opportunity_create(request):
    """A new opportunity for a customer (``?customer=`` from the customer's page, else a
    search for one first), with its product lines."""
    user = request.user
    require(user, "opportunity", Action.CREATE)
    customer_id = request.POST.get("customer") or request.GET.get("customer")
    if not customer_id:
        return _pick_customer(request)
    customer = get_for(user, Customer, customer_id)
    products = _products()
    form = OpportunityForm(
        request.POST or None,
        customer=customer,
        user=user,
        owners=_owner_choices(user),
        initial={"currency": customer.currency or "CNY"},
    )
    formset = line_formset(request.POST or None, products=products)
    line_errors: list[str] = []
    if request.method == "POST":
        forms_valid = form.is_valid()
        lines_valid = formset.is_valid()
        if not lines_valid:
            line_errors += [str(e) for e in formset.non_form_errors()]
        if forms_valid and lines_valid:
            data = form.cleaned_data
            try:
                opportunity = services.create_opportunity(
                    customer=customer,
                    by=user,
                    owner=data.get("owner"),
                    pipeline=data["pipeline"],
                    stage=data.get("stage"),
                    lines=formset.lines(),
                    custom=form.custom_values(),
                    **form.facts(),
                )
            except (ValidationError, Conflict, PermissionDenied) as exc:
                if isinstance(exc, PermissionDenied):
                    exc = ValidationError({"owner": [str(exc)]})
                show_error(form, exc, line_errors)
            else:
                messages.success(
                    request, _("Opportunity “%(title)s” was saved.") % {"title": opportunity}
                )
                if not may_act_on(user, opportunity, Action.VIEW):
                    return redirect("customers:customer_detail", pk=customer.pk)
                return redirect("sales:opportunity_detail", pk=opportunity.pk)
    return _form_page(
        request, form, formset, line_errors, customer=customer, opportunity=None, products=products
    )


def _form_page(request, form, formset, line_errors, *, customer, opportunity, products):
    return render(
        request,
        "sales/opportunity_form.html",
        {
            "form": form,
            "formset": formset,
            "line_rows": _line_rows(formset),
            "line_errors": line_errors,
            "catalogue": _catalogue(products),
            "stage_options": form.stage_options(),
            "customer": customer,
            "opportunity": opportunity,
        },
        status=400 if request.method == "POST" else 200,
    )


# --- Edit and delete ----------------------------------------------------------------------------


@login_required
def opportunity_edit(request, pk: int):
    user = request.user
    opportunity = get_for_action(user, _opportunities(), pk, Action.EDIT)
    products = _products(opportunity)
    initial = {
        "title": opportunity.title,
        "amount": opportunity.amount,
        "currency": opportunity.currency,
        "expected_close_date": opportunity.expected_close_date,
        "contacts": list(opportunity.contacts.values_list("pk", flat=True)),
        "team": list(opportunity.team.values_list("pk", flat=True)),
        "source_lead": opportunity.source_lead_id,
        "channel": opportunity.channel_id,
        "description": opportunity.description,
        "version": opportunity.version,
        **custom_fields.initial_values(Opportunity.custom_fields_target, opportunity.custom),
    }
    form = OpportunityForm(
        request.POST or None,
        customer=opportunity.customer,
        user=user,
        opportunity=opportunity,
        initial=initial,
    )
    lines = [
        {
            "product": line.product_id,
            "name": line.name,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
        }
        for line in opportunity.lines.all()
    ]
    # Posted lines stand on their own: compared with the stored ones, unchanged rows would
    # count as empty extra forms and be dropped.
    formset = (
        line_formset(request.POST, products=products)
        if request.method == "POST"
        else line_formset(initial=lines, products=products)
    )
    line_errors: list[str] = []
    if request.method == "POST":
        forms_valid = form.is_valid()
        lines_valid = formset.is_valid()
        if not lines_valid:
            line_errors += [str(e) for e in formset.non_form_errors()]
        if forms_valid and lines_valid:
            try:
                services.update_opportunity(
                    opportunity,
                    by=user,
                    version=form.cleaned_data.get("version"),
                    lines=formset.lines(),
                    custom=form.custom_values(current=opportunity.custom),
                    **form.facts(),
                )
            except (ValidationError, Conflict) as exc:
                show_error(form, exc, line_errors)
            else:
                messages.success(
                    request, _("Opportunity “%(title)s” was saved.") % {"title": opportunity}
                )
                return redirect("sales:opportunity_detail", pk=opportunity.pk)
    return _form_page(
        request,
        form,
        formset,
        line_errors,
        customer=opportunity.customer,
        opportunity=opportunity,
        products=products,
    )


@login_required
def opportunity_delete(request, pk: int):
    opportunity = get_for_action(request.user, Opportunity, pk, Action.DELETE)
    if request.method == "POST":
        services.delete_opportunity(opportunity, by=request.user)
        messages.success(
            request,
            _("Opportunity “%(title)s” was moved to the recycle bin, where it can be restored.")
            % {"title": opportunity},
        )
        return redirect("sales:opportunity_list")
    return render(request, "sales/opportunity_delete.html", {"opportunity": opportunity})


# --- The opportunity's page ---------------------------------------------------------------------


def _days(duration) -> Decimal:
    return (Decimal(duration.total_seconds()) / Decimal(86400)).quantize(Decimal("0.1"))


def _stage_path(opportunity: Opportunity, stages: list[Stage], visited: set[int]) -> list[dict]:
    """The pipeline's open stages in order (an archived one only where this deal stands), each
    marked done, current or ahead."""
    path = []
    reached = opportunity.status != OpportunityStatus.OPEN
    current_order = (
        opportunity.stage.sort_order if opportunity.stage.kind == StageKind.OPEN else None
    )
    for stage in stages:
        if stage.kind != StageKind.OPEN:
            continue
        if not stage.active and stage.pk != opportunity.stage_id:
            continue
        if stage.pk == opportunity.stage_id:
            state = "current"
        elif (current_order is not None and stage.sort_order < current_order) or (
            reached and stage.pk in visited
        ):
            state = "done"
        else:
            state = "ahead"
        path.append({"stage": stage, "state": state, "visited": stage.pk in visited})
    return path


def _detail_context(request, opportunity: Opportunity, **extra) -> dict[str, Any]:
    user = request.user
    may_edit = may_act_on(user, opportunity, Action.EDIT)
    is_open = opportunity.status == OpportunityStatus.OPEN
    stages = list(Stage.objects.filter(pipeline_id=opportunity.pipeline_id))
    visits = list(opportunity.stage_visits.select_related("by"))
    now = timezone.now()
    for visit in visits:
        visit.days = _days((visit.left_at or now) - visit.entered_at)
    lines = list(opportunity.lines.select_related("product"))
    moves = [
        s for s in stages if s.kind == StageKind.OPEN and s.active and s.pk != opportunity.stage_id
    ]
    version = opportunity.version
    return {
        "opportunity": opportunity,
        "contacts": list(opportunity.contacts.all()),
        "team": list(opportunity.team.all()),
        "lines": lines,
        "lines_total": sum((line.amount for line in lines), Decimal("0")),
        "path": _stage_path(opportunity, stages, {v.stage_id for v in visits}),
        "visits": visits,
        "custom_values": custom_fields.shown_values(
            Opportunity.custom_fields_target, opportunity.custom
        ),
        "is_open": is_open,
        "may_edit": may_edit,
        "may_move": may_edit and is_open,
        "may_delete": may_act_on(user, opportunity, Action.DELETE),
        "may_reopen": not is_open and may_act_on(user, opportunity, Action.APPROVE),
        "move_form": extra.pop("move_form", None)
        or MoveForm(initial={"version": version}, opportunity=opportunity),
        "move_choices": moves,
        "win_form": extra.pop("win_form", None) or WinForm(initial={"version": version}),
        "lose_form": extra.pop("lose_form", None) or LoseForm(initial={"version": version}),
        "reopen_form": extra.pop("reopen_form", None) or ReopenForm(opportunity=opportunity),
        "reopen_choices": [s for s in stages if s.kind == StageKind.OPEN and s.active],
        "lost_reasons": list(LostReason.objects.filter(active=True)),
        "may_see_customer": may_act_on(user, opportunity.customer, Action.VIEW),
        "audit_page": audit_trail(request, opportunity),
        "contract_card": _contract_card(opportunity, user),
        **extra,
    }


def _contract_card(opportunity: Opportunity, user: User) -> dict[str, Any]:
    """The opportunity's contracts and, once won, the offer to draft its contract (the
    contracts app's card)."""
    from tuoke.contracts.views_contracts import opportunity_card

    return opportunity_card(opportunity, user)


@login_required
def opportunity_detail(request, pk: int):
    opportunity = get_for(request.user, _opportunities(), pk)
    return render(request, "sales/opportunity_detail.html", _detail_context(request, opportunity))


def _refused(request, opportunity: Opportunity, form, exc=None, *, dialog: str = "", missing=()):
    """The opportunity's page again with the refusal on top (and on the dialog's form)."""
    line_errors: list[str] = []
    if exc is not None:
        show_error(form, exc, line_errors)
    problems = [str(e) for e in form.non_field_errors()]
    for name, errors in form.errors.items():
        if name != "__all__" and name not in ("reason", "note"):
            problems += [str(e) for e in errors]
    problems += line_errors
    opportunity.refresh_from_db()
    return render(
        request,
        "sales/opportunity_detail.html",
        _detail_context(
            request,
            opportunity,
            problems=problems,
            missing=list(missing),
            open_dialog=dialog,
            **{f"{dialog or 'move'}_form": form},
        ),
        status=409 if isinstance(exc, Conflict) else 400,
    )


def _action_target(request, pk: int) -> Opportunity:
    opportunity = get_for_action(request.user, _opportunities(), pk, Action.EDIT)
    return opportunity


@login_required
def opportunity_move(request, pk: int):
    """Move an open opportunity to another open stage of its pipeline; a stage whose required
    fields are not filled refuses it and says which."""
    opportunity = _action_target(request, pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = MoveForm(request.POST, opportunity=opportunity)
    if not form.is_valid():
        return _refused(request, opportunity, form)
    stage = form.cleaned_data["stage"]
    try:
        services.move_stage(
            opportunity, stage, by=request.user, version=form.cleaned_data.get("version")
        )
    except (ValidationError, Conflict) as exc:
        missing = (
            [
                {"key": key, "label": label}
                for key, label in services.required_missing(opportunity, stage)
            ]
            if isinstance(exc, ValidationError) and stage.pipeline_id == opportunity.pipeline_id
            else []
        )
        return _refused(request, opportunity, form, exc, missing=missing)
    messages.success(
        request,
        _("“%(title)s” moved to %(stage)s.") % {"title": opportunity, "stage": stage.name},
    )
    return redirect("sales:opportunity_detail", pk=opportunity.pk)


@login_required
def opportunity_win(request, pk: int):
    opportunity = _action_target(request, pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = WinForm(request.POST)
    if not form.is_valid():
        return _refused(request, opportunity, form, dialog="win")
    try:
        services.win(
            opportunity,
            by=request.user,
            note=form.cleaned_data["note"],
            version=form.cleaned_data.get("version"),
        )
    except (ValidationError, Conflict) as exc:
        return _refused(request, opportunity, form, exc, dialog="win")
    messages.success(request, _("“%(title)s” was won.") % {"title": opportunity})
    return redirect("sales:opportunity_detail", pk=opportunity.pk)


@login_required
def opportunity_lose(request, pk: int):
    opportunity = _action_target(request, pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = LoseForm(request.POST)
    if not form.is_valid():
        return _refused(request, opportunity, form, dialog="lose")
    try:
        services.lose(
            opportunity,
            by=request.user,
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
            version=form.cleaned_data.get("version"),
        )
    except (ValidationError, Conflict) as exc:
        return _refused(request, opportunity, form, exc, dialog="lose")
    messages.success(request, _("“%(title)s” was lost.") % {"title": opportunity})
    return redirect("sales:opportunity_detail", pk=opportunity.pk)


@login_required
def opportunity_reopen(request, pk: int):
    """A manager's correction: a won or lost opportunity back into an open stage."""
    opportunity = get_for_action(request.user, _opportunities(), pk, Action.APPROVE)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = ReopenForm(request.POST, opportunity=opportunity)
    if not form.is_valid():
        return _refused(request, opportunity, form, dialog="reopen")
    try:
        services.reopen(opportunity, stage=form.cleaned_data["stage"], by=request.user)
    except (ValidationError, Conflict) as exc:
        return _refused(request, opportunity, form, exc, dialog="reopen")
    messages.success(request, _("“%(title)s” is open again.") % {"title": opportunity})
    return redirect("sales:opportunity_detail", pk=opportunity.pk)


# --- On the customer's page ---------------------------------------------------------------------


def customer_card(customer: Customer, user: User) -> dict[str, Any]:
    """The customer's latest opportunities the user may see, for the customer's page."""
    if not can(user, "opportunity", Action.VIEW):
        return {"shown": False}
    found = (
        Opportunity.objects.visible_to(user)
        .filter(customer=customer)
        .select_related("stage")
        .order_by("-updated_at", "-pk")
    )
    rows = list(found[: CUSTOMER_CARD_SIZE + 1])
    return {
        "shown": True,
        "rows": rows[:CUSTOMER_CARD_SIZE],
        "more": len(rows) > CUSTOMER_CARD_SIZE,
        "list_url": reverse("sales:opportunity_list") + f"?customer={customer.pk}",
        "may_create": can(user, "opportunity", Action.CREATE),
        "new_url": reverse("sales:opportunity_create") + f"?customer={customer.pk}",
    }
