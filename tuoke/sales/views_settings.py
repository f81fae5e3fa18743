"""The administrators' pages of pipelines and their stages, lost reasons and products.

Everyone reads this configuration through the forms that use it; these pages are for who
administers it, so a record is fetched with the ``administer`` action (anyone else: 404).
Stages and lost reasons have record types of their own but are administered under the
"pipeline" grant.
Every write goes through ``tuoke.sales.config``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tuoke.core.errors import Conflict, ErrorCode
from tuoke.core.models import Action
from tuoke.core.scope import can, get_for, require
from tuoke.core.views import add_service_error, is_htmx, paginate

from . import config
from .forms_settings import LostReasonForm, NewStageForm, PipelineForm, ProductForm, StageForm
from .models import LostReason, Pipeline, Product, Stage

PRODUCTS_PAGE_SIZE = 25


# --- Helpers ------------------------------------------------------------------------------------


def _pipelines():
    return Pipeline.objects.prefetch_related(
        Prefetch("stages", queryset=Stage.objects.order_by("sort_order", "pk"))
    )


def _pipeline_for(user, pk, queryset=None) -> Pipeline:
    return get_for(user, queryset if queryset is not None else _pipelines(), pk, Action.ADMINISTER)


def _stage_for(user, pk) -> Stage:
    """A stage of a living pipeline the user administers (stages are changed under the
    "pipeline" grant); 404 for anyone else."""
    administered = Pipeline.objects.visible_to(user, Action.ADMINISTER)
    stages = Stage.objects.filter(pipeline__in=administered).select_related("pipeline")
    return get_for(user, stages, pk)


def _messages_of(exc: ValidationError | Conflict) -> str:
    if isinstance(exc, Conflict):
        return str(exc.message)
    return " ".join(exc.messages)


def _refusal(exc: ValidationError, stage: Stage | None = None) -> str:
    """A service's refusal as one message; a stage in use links to its opportunities."""
    text = _messages_of(exc)
    in_use = hasattr(exc, "error_dict") and any(
        e.code == ErrorCode.IN_USE for e in exc.error_dict.get("stage", [])
    )
    if stage is not None and in_use:
        url = reverse("sales:opportunity_list") + f"?stage={stage.pk}"
        return format_html(
            '{} <a href="{}" data-testid="stage-in-use-link">{}</a>',
            text,
            url,
            _("See these opportunities"),
        )
    return text


def _stage_rows(pipeline: Pipeline, labels: dict[str, str] | None = None) -> dict:
    labels = labels if labels is not None else dict(config.requirable_choices())
    stages = list(pipeline.stages.all())
    for stage in stages:
        stage.required_labels = config.required_labels(stage.required_fields, labels)
    return {
        "open": [s for s in stages if s.active and s.kind == "open"],
        "ends": [s for s in stages if s.is_closed],
        "archived": [s for s in stages if not s.active],
    }


def _card_context(pipeline: Pipeline, *, form=None, error: str = "", labels=None) -> dict:
    return {
        "pipeline": pipeline,
        "rows": _stage_rows(pipeline, labels),
        "stage_form": form or NewStageForm(auto_id=f"id_p{pipeline.pk}_%s"),
        "card_error": error,
    }


def _card(request, pipeline_pk: int, **extra) -> HttpResponse:
    pipeline = _pipeline_for(request.user, pipeline_pk)
    return render(request, "sales/settings_pipeline_card.html", _card_context(pipeline, **extra))


def _back_to_pipelines(pipeline_pk: int):
    return redirect(reverse("sales:pipeline_list") + f"#pipeline-{pipeline_pk}")


def _confirm(request, *, title, message, button, cancel, danger=True, refusal=""):
    return render(
        request,
        "sales/settings_confirm.html",
        {
            "title": title,
            "message": message,
            "button": button,
            "cancel": cancel,
            "danger": danger,
            "refusal": refusal,
        },
    )


# --- Pipelines ----------------------------------------------------------------------------------


@login_required
def pipeline_list(request):
    """Every pipeline with its stages, editable in place; deleted ones to restore."""
    require(request.user, "pipeline", Action.ADMINISTER)
    pipelines = list(_pipelines().visible_to(request.user, Action.ADMINISTER))
    deleted = Pipeline.all_objects.deleted().visible_to(request.user, Action.ADMINISTER)
    labels = dict(config.requirable_choices())
    return render(
        request,
        "sales/settings_pipelines.html",
        {
            "cards": [_card_context(p, labels=labels) for p in pipelines],
            "deleted": list(deleted.order_by("-deleted_at")[:20]),
        },
    )


@login_required
def pipeline_create(request):
    require(request.user, "pipeline", Action.ADMINISTER)
    form = PipelineForm(request.POST or None, initial={"active": True})
    if request.method == "POST" and form.is_valid():
        try:
            pipeline = config.create_pipeline(by=request.user, **form.facts())
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("Pipeline “%(name)s” was created with the usual stages; adapt them below.")
                % {"name": pipeline.name},
            )
            return _back_to_pipelines(pipeline.pk)
    return render(request, "sales/settings_pipeline_form.html", {"form": form, "pipeline": None})


@login_required
def pipeline_edit(request, pk: int):
    pipeline = _pipeline_for(request.user, pk, Pipeline.objects.all())
    form = PipelineForm(request.POST or None, initial=PipelineForm.initial_for(pipeline))
    if request.method == "POST" and form.is_valid():
        try:
            config.update_pipeline(
                pipeline, by=request.user, version=form.cleaned_data["version"], **form.facts()
            )
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Pipeline “%(name)s” was saved.") % {"name": pipeline})
            return _back_to_pipelines(pipeline.pk)
    return render(
        request, "sales/settings_pipeline_form.html", {"form": form, "pipeline": pipeline}
    )


@login_required
def pipeline_delete(request, pk: int):
    pipeline = _pipeline_for(request.user, pk, Pipeline.objects.all())
    cancel = reverse("sales:pipeline_list") + f"#pipeline-{pipeline.pk}"
    refusal = ""
    if request.method == "POST":
        try:
            config.delete_pipeline(pipeline, by=request.user)
        except ValidationError as exc:
            refusal = _messages_of(exc)
        else:
            messages.success(
                request, _("Pipeline “%(name)s” was deleted.") % {"name": pipeline.name}
            )
            return redirect("sales:pipeline_list")
    return _confirm(
        request,
        title=_("Delete pipeline “%(name)s”?") % {"name": pipeline.name},
        message=_(
            "The pipeline and its stages are put aside; closed opportunities keep them in "
            "their history, and you can restore the pipeline from this page."
        ),
        button=_("Delete"),
        cancel=cancel,
        refusal=refusal,
    )


@login_required
@require_POST
def pipeline_restore(request, pk: int):
    queryset = Pipeline.all_objects.deleted()
    pipeline = get_for(request.user, queryset, pk, Action.ADMINISTER)
    try:
        config.restore_pipeline(pipeline, by=request.user)
    except ValidationError as exc:
        messages.error(request, _messages_of(exc))
        return redirect("sales:pipeline_list")
    messages.success(request, _("Pipeline “%(name)s” was restored.") % {"name": pipeline.name})
    return _back_to_pipelines(pipeline.pk)


# --- Stages -------------------------------------------------------------------------------------


@login_required
@require_POST
def stage_create(request, pk: int):
    pipeline = _pipeline_for(request.user, pk, Pipeline.objects.all())
    form = NewStageForm(request.POST, auto_id=f"id_p{pipeline.pk}_%s")
    if form.is_valid():
        try:
            stage = config.create_stage(pipeline, by=request.user, **form.facts())
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            if is_htmx(request):
                return _card(request, pipeline.pk)
            messages.success(request, _("Stage “%(name)s” was added.") % {"name": stage.name})
            return _back_to_pipelines(pipeline.pk)
    if is_htmx(request):
        return _card(request, pipeline.pk, form=form)
    messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return _back_to_pipelines(pipeline.pk)


def _stage_ids(request) -> list[str]:
    ids: list[str] = []
    for value in request.POST.getlist("stage_ids"):
        ids += [part for part in value.split(",") if part.strip()]
    return ids


@login_required
@require_POST
def stage_reorder(request, pk: int):
    """The new order of the open stages after a drag (htmx answers with the card)."""
    pipeline = _pipeline_for(request.user, pk, Pipeline.objects.all())
    error = ""
    try:
        config.reorder_stages(pipeline, _stage_ids(request), by=request.user)
    except ValidationError as exc:
        error = _messages_of(exc)
    if is_htmx(request):
        return _card(request, pipeline.pk, error=error)
    if error:
        messages.error(request, error)
    return _back_to_pipelines(pipeline.pk)


@login_required
@require_POST
def stage_move(request, pk: int):
    """One place up or down (the keyboard's way of reordering)."""
    stage = _stage_for(request.user, pk)
    step = -1 if request.POST.get("direction") == "up" else 1
    error = ""
    try:
        config.shift_stage(stage, by=request.user, step=step)
    except ValidationError as exc:
        error = _messages_of(exc)
    if is_htmx(request):
        return _card(request, stage.pipeline_id, error=error)
    if error:
        messages.error(request, error)
    return _back_to_pipelines(stage.pipeline_id)


def _row(request, stage: Stage) -> HttpResponse:
    stage.required_labels = config.required_labels(stage.required_fields)
    return render(request, "sales/settings_stage_row.html", {"stage": stage, "inline": True})


@login_required
def stage_row(request, pk: int):
    """One stage's row (htmx: what "Cancel" puts back in place of its form)."""
    stage = _stage_for(request.user, pk)
    if not is_htmx(request):
        return _back_to_pipelines(stage.pipeline_id)
    return _row(request, stage)


@login_required
def stage_edit(request, pk: int):
    """Edit a stage in place (htmx) or on its own page."""
    stage = _stage_for(request.user, pk)
    form = StageForm(
        request.POST or None,
        stage=stage,
        initial=StageForm.initial_for(stage),
        auto_id=f"id_s{stage.pk}_%s",
    )
    if request.method == "POST" and form.is_valid():
        try:
            config.update_stage(
                stage, by=request.user, version=form.cleaned_data["version"], **form.facts()
            )
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            if is_htmx(request):
                return _row(request, stage)
            messages.success(request, _("Stage “%(name)s” was saved.") % {"name": stage.name})
            return _back_to_pipelines(stage.pipeline_id)
    template = "sales/settings_stage_edit.html" if is_htmx(request) else "sales/settings_stage.html"
    return render(request, template, {"stage": stage, "form": form})


@login_required
def stage_archive(request, pk: int):
    stage = _stage_for(request.user, pk)
    refusal = ""
    if request.method == "POST":
        try:
            config.archive_stage(stage, by=request.user)
        except ValidationError as exc:
            refusal = _refusal(exc, stage)
        else:
            messages.success(
                request,
                _("Stage “%(name)s” was archived; the history of opportunities keeps it.")
                % {"name": stage.name},
            )
            return _back_to_pipelines(stage.pipeline_id)
    in_use = config.open_opportunities(stage=stage).count()
    if in_use and not refusal:
        refusal = _refusal(
            ValidationError(
                {
                    "stage": [
                        ValidationError(
                            _(
                                "%(count)s open opportunities are in stage “%(name)s”: move "
                                "them to another stage first."
                            )
                            % {"count": in_use, "name": stage.name},
                            code=ErrorCode.IN_USE,
                        )
                    ]
                }
            ),
            stage,
        )
    return _confirm(
        request,
        title=_("Archive stage “%(name)s”?") % {"name": stage.name},
        message=_(
            "New opportunities can no longer enter it. Opportunities that passed through it "
            "keep it in their history, and you can bring it back later."
        ),
        button=_("Archive"),
        cancel=reverse("sales:pipeline_list") + f"#pipeline-{stage.pipeline_id}",
        refusal=refusal,
    )


@login_required
@require_POST
def stage_unarchive(request, pk: int):
    stage = _stage_for(request.user, pk)
    try:
        config.unarchive_stage(stage, by=request.user)
    except ValidationError as exc:
        messages.error(request, _messages_of(exc))
    else:
        messages.success(request, _("Stage “%(name)s” is offered again.") % {"name": stage.name})
    return _back_to_pipelines(stage.pipeline_id)


# --- Lost reasons -------------------------------------------------------------------------------


def _reason_for(user, pk) -> LostReason:
    """A lost reason to change: they are administered under the "pipeline" grant (404 for
    anyone without it)."""
    if not can(user, "pipeline", Action.ADMINISTER):
        raise Http404
    return get_for(user, LostReason.objects.all(), pk)


@login_required
def lost_reason_list(request):
    require(request.user, "pipeline", Action.ADMINISTER)
    form = LostReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reason = config.create_lost_reason(by=request.user, **form.facts())
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Lost reason “%(name)s” added.") % {"name": reason.name})
            return redirect("sales:lost_reason_list")
    reasons = LostReason.objects.visible_to(request.user)
    return render(
        request,
        "sales/settings_lost_reasons.html",
        {"reasons": list(reasons.order_by("sort_order", "pk")), "form": form},
    )


@login_required
def lost_reason_edit(request, pk: int):
    reason = _reason_for(request.user, pk)
    form = LostReasonForm(request.POST or None, initial=LostReasonForm.initial_for(reason))
    if request.method == "POST" and form.is_valid():
        try:
            config.update_lost_reason(
                reason, by=request.user, version=form.cleaned_data["version"], **form.facts()
            )
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Lost reason “%(name)s” saved.") % {"name": reason.name})
            return redirect("sales:lost_reason_list")
    return render(request, "sales/settings_lost_reason_form.html", {"form": form, "reason": reason})


@login_required
@require_POST
def lost_reason_toggle(request, pk: int):
    reason = _reason_for(request.user, pk)
    config.update_lost_reason(reason, by=request.user, active=not reason.active)
    return redirect("sales:lost_reason_list")


@login_required
def lost_reason_delete(request, pk: int):
    reason = _reason_for(request.user, pk)
    refusal = ""
    if request.method == "POST":
        try:
            config.delete_lost_reason(reason, by=request.user)
        except ValidationError as exc:
            refusal = _messages_of(exc)
        else:
            messages.success(request, _("Lost reason “%(name)s” deleted.") % {"name": reason.name})
            return redirect("sales:lost_reason_list")
    elif config.reason_in_use(reason):
        refusal = _(
            "Opportunities were lost for “%(name)s”: deactivate the reason instead, so "
            "that they keep it."
        ) % {"name": reason.name}
    return _confirm(
        request,
        title=_("Delete lost reason “%(name)s”?") % {"name": reason.name},
        message=_("It goes to the recycle bin."),
        button=_("Delete"),
        cancel=reverse("sales:lost_reason_list"),
        refusal=refusal,
    )


# --- Products -----------------------------------------------------------------------------------


def _product_for(user, pk) -> Product:
    return get_for(user, Product.objects.all(), pk, Action.ADMINISTER)


@login_required
def product_list(request):
    """The catalogue, searchable by name or code, a page at a time."""
    require(request.user, "product", Action.ADMINISTER)
    products = Product.objects.visible_to(request.user, Action.ADMINISTER).order_by("name", "pk")
    query = request.GET.get("q", "").strip()[:100]
    if query:
        products = products.filter(Q(name__icontains=query) | Q(code__icontains=query))
    status = request.GET.get("status", "")
    if status in ("active", "inactive"):
        products = products.filter(active=status == "active")
    page = paginate(request, products, PRODUCTS_PAGE_SIZE)
    return render(
        request,
        "sales/settings_products.html",
        {"page_obj": page, "query": query, "status": status},
    )


@login_required
def product_create(request):
    require(request.user, "product", Action.ADMINISTER)
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            product = config.create_product(by=request.user, **form.facts())
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Product “%(name)s” was added.") % {"name": product})
            return redirect("sales:product_list")
    return render(request, "sales/settings_product_form.html", {"form": form, "product": None})


@login_required
def product_edit(request, pk: int):
    product = _product_for(request.user, pk)
    form = ProductForm(request.POST or None, initial=ProductForm.initial_for(product))
    if request.method == "POST" and form.is_valid():
        try:
            config.update_product(
                product, by=request.user, version=form.cleaned_data["version"], **form.facts()
            )
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Product “%(name)s” was saved.") % {"name": product})
            return redirect("sales:product_list")
    return render(request, "sales/settings_product_form.html", {"form": form, "product": product})


@login_required
def product_delete(request, pk: int):
    product = _product_for(request.user, pk)
    if request.method == "POST":
        config.delete_product(product, by=request.user)
        messages.success(
            request, _("Product “%(name)s” was moved to the recycle bin.") % {"name": product}
        )
        return redirect("sales:product_list")
    return _confirm(
        request,
        title=_("Delete product “%(name)s”?") % {"name": product},
        message=_(
            "It goes to the recycle bin; opportunities that list it keep their lines. To stop "
            "offering it, make it inactive instead."
        ),
        button=_("Delete"),
        cancel=reverse("sales:product_list"),
    )
