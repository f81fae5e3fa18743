"""The kanban board of a pipeline: columns of open stages with their totals, cards that move
between stages by drag and drop or by their "Move to…" menu, and won / lost end stages that
ask to win or lose the deal.

The moves answer htmx with the card re-rendered and every column's totals (out-of-band
swaps); a refusal answers 4xx with the reason in an ``HX-Trigger`` event ("board:refused")
so that the page puts the card back where it was and shows why. Without JavaScript the
forms post and come back to the board with a message.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from tuoke.core import directory
from tuoke.core.errors import Conflict
from tuoke.core.models import Action
from tuoke.core.scope import can, get_for, may_act_on, require
from tuoke.core.views import is_htmx
from tuoke.org.models import OrgUnit, User

from . import board as board_query
from .models import LostReason, Opportunity, Pipeline, Stage, StageKind

# --- Filters ------------------------------------------------------------------------------------


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: OrgUnit) -> str:
        return "— " * obj.depth + obj.name


class MonthField(forms.DateField):
    input_formats = ["%Y-%m"]


class BoardFilterForm(forms.Form):
    """The board's filters as query parameters; a bad value is reported on its field and
    that filter is left out, the others still apply."""

    owner = forms.ModelChoiceField(
        label=gettext_lazy("Owner"),
        queryset=User.objects.none(),
        required=False,
        empty_label=gettext_lazy("All owners"),
    )
    unit = UnitChoiceField(
        label=gettext_lazy("Owner's unit"),
        queryset=OrgUnit.objects.none(),
        required=False,
        empty_label=gettext_lazy("All units"),
    )
    close_month = MonthField(
        label=gettext_lazy("Expected close month"),
        required=False,
        widget=forms.DateInput(format="%Y-%m", attrs={"type": "month"}),
    )

    def __init__(self, data, *, user: User):
        super().__init__(data)
        self.fields["owner"].queryset = User.objects.visible_to(user)
        self.fields["unit"].queryset = OrgUnit.objects.visible_to(user)

    def filters(self) -> board_query.BoardFilters:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return board_query.BoardFilters(
            owner=data.get("owner"), unit=data.get("unit"), close_month=data.get("close_month")
        )


def _options(choices, chosen: str) -> SafeString:
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((v, mark_safe(" selected") if str(v) == chosen else "", label) for v, label in choices),
    )


def _directory_options(user: User) -> dict[str, list[tuple[int, str]]]:
    """Owners and units the user may see, kept until the directory changes."""
    people = User.objects.visible_to(user).filter(is_active=True).order_by("username")
    units = OrgUnit.objects.visible_to(user).order_by("path")
    return {
        "owner": [(u.pk, str(u)) for u in people],
        "unit": [(u.pk, "— " * u.depth + u.name) for u in units],
    }


def _filter_options(user: User, params) -> dict[str, SafeString]:
    cached = directory.cached_for(user, "board-options", lambda: _directory_options(user))
    return {
        "owner": _options(cached["owner"], params.get("owner", "")),
        "unit": _options(cached["unit"], params.get("unit", "")),
    }


def _filters(request) -> tuple[BoardFilterForm, board_query.BoardFilters]:
    form = BoardFilterForm(request.GET, user=request.user)
    return form, form.filters()


def _query(filters: board_query.BoardFilters) -> str:
    return urlencode(filters.query())


def _board_url(pipeline_pk: int, filters: board_query.BoardFilters) -> str:
    url = reverse("sales:board", args=[pipeline_pk])
    query = _query(filters)
    return f"{url}?{query}" if query else url


# --- The board ----------------------------------------------------------------------------------


def _pipelines():
    return Pipeline.objects.filter(active=True).order_by("sort_order", "pk")


@login_required
def board_default(request):
    """The default pipeline's board (or the first active one), filters kept."""
    require(request.user, "opportunity", Action.VIEW)
    pipelines = list(_pipelines())
    chosen = next((p for p in pipelines if p.is_default), pipelines[0] if pipelines else None)
    if chosen is None:
        return render(request, "sales/board_empty.html", {"nav_active": "board"})
    url = reverse("sales:board", args=[chosen.pk])
    query = request.GET.urlencode()
    return redirect(f"{url}?{query}" if query else url)


def _card_context(user: User, board: board_query.Board) -> dict[str, Any]:
    """What every card of the board needs besides itself (the same for all cards)."""
    return {
        "stages": board.stages,
        "may_move": can(user, "opportunity", Action.EDIT),
        "query": _query(board.filters),
    }


@login_required
@require_GET
def board(request, pk: int):
    pipeline = get_for(request.user, Pipeline, pk)
    require(request.user, "opportunity", Action.VIEW)
    form, filters = _filters(request)
    data = board_query.board_data(request.user, pipeline, filters)
    context = {
        "board": data,
        "pipeline": pipeline,
        "pipelines": _pipelines(),
        "form": form,
        "options": _filter_options(request.user, request.GET),
        "close_month": request.GET.get("close_month", ""),
        "is_filtered": bool(filters.query()),
        "lost_reasons": LostReason.objects.filter(active=True).order_by("sort_order", "pk"),
        "per_column": board_query.PER_COLUMN,
        "nav_active": "board",
        **_card_context(request.user, data),
    }
    return render(request, "sales/board.html", context)


@login_required
@require_GET
def board_more(request, pk: int):
    """The next cards of one column (htmx swaps them in for the "More" button)."""
    pipeline = get_for(request.user, Pipeline, pk)
    require(request.user, "opportunity", Action.VIEW)
    stage = _stage_of(pipeline, request.GET.get("stage"))
    if stage is None or stage.kind != StageKind.OPEN:
        raise Http404
    try:
        offset = max(int(request.GET.get("offset", 0)), 0)
    except ValueError:
        offset = 0
    _form, filters = _filters(request)
    stages = board_query.board_stages(pipeline)
    opportunities = board_query.filtered(request.user, stages, filters)
    found, has_more = board_query.cards(opportunities, stage, offset=offset)
    column = board_query.Column(stage=stage, cards=found, has_more=has_more)
    return render(
        request,
        "sales/board_more.html",
        {
            "column": column,
            "pipeline": pipeline,
            "next_offset": offset + len(found),
            "stages": stages,
            "may_move": can(request.user, "opportunity", Action.EDIT),
            "query": _query(filters),
        },
    )


def _stage_of(pipeline: Pipeline, raw) -> Stage | None:
    try:
        return pipeline.stages.filter(active=True).get(pk=int(raw))
    except (TypeError, ValueError, Stage.DoesNotExist):
        return None


# --- Moving, winning and losing -----------------------------------------------------------------


def _opportunity_for(request, pk: int) -> Opportunity:
    """The opportunity to move: 404 outside the user's sight."""
    return get_for(
        request.user, Opportunity.objects.select_related("stage", "customer", "owner"), pk
    )


def _version(raw) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def _message(exc: ValidationError | Conflict) -> str:
    if isinstance(exc, Conflict):
        return str(exc.message)
    return " ".join(str(m) for m in exc.messages)


def _refused(request, opportunity: Opportunity, message: str, *, status: int, refresh=False):
    """A move or close the services refused: htmx hears why (and the card snaps back);
    a plain form goes back to the board with the message."""
    if is_htmx(request):
        response = HttpResponse(status=status)
        # ASCII JSON: a header carries no raw Chinese.
        response["HX-Trigger"] = json.dumps(
            {"board:refused": {"message": message, "refresh": refresh, "card": opportunity.pk}}
        )
        return response
    messages.error(request, message)
    return redirect(_back(request, opportunity))


def _back(request, opportunity: Opportunity) -> str:
    _form, filters = _filters(request)
    return _board_url(opportunity.pipeline_id, filters)


def _moved(request, opportunity: Opportunity, message: str, *, removed: bool):
    """After a move (the card re-rendered in its new stage) or a win or loss (the card
    leaves the board): every column's totals out of band."""
    if not is_htmx(request):
        messages.success(request, message)
        return redirect(_back(request, opportunity))
    _form, filters = _filters(request)
    data = board_query.board_data(request.user, opportunity.pipeline, filters, with_cards=False)
    context = {
        "board": data,
        "card": None if removed else board_query.dress(opportunity, opportunity.stage),
        **_card_context(request.user, data),
    }
    response = render(request, "sales/board_moved.html", context)
    response["HX-Trigger"] = json.dumps({"board:done": {"message": message}})
    if removed:
        response["HX-Reswap"] = "delete"
    return response


def _may_edit(request, opportunity: Opportunity) -> bool:
    return may_act_on(request.user, opportunity, Action.EDIT)


@login_required
@require_POST
def board_move(request, pk: int):
    """Move a card to another open stage (``stage``, ``version``). A won or lost stage is
    not a move: without JavaScript it opens the win / lose form."""
    from tuoke.sales import services

    opportunity = _opportunity_for(request, pk)
    if not _may_edit(request, opportunity):
        return _refused(
            request, opportunity, _("You do not have permission to do this."), status=403
        )
    stage = _stage_of(opportunity.pipeline, request.POST.get("stage"))
    if stage is None:
        return _refused(
            request, opportunity, _("Choose a stage of the chosen pipeline."), status=422
        )
    if stage.kind != StageKind.OPEN:
        if is_htmx(request):
            return _refused(
                request,
                opportunity,
                _("Win or lose the opportunity to close it."),
                status=422,
            )
        return _close_form(request, opportunity, stage.kind)
    try:
        moved = services.move_stage(
            opportunity, stage, by=request.user, version=_version(request.POST.get("version"))
        )
    except Conflict as exc:
        return _refused(request, opportunity, _message(exc), status=409, refresh=True)
    except ValidationError as exc:
        return _refused(request, opportunity, _message(exc), status=422)
    message = _("“%(title)s” moved to %(stage)s.") % {"title": moved.title, "stage": stage.name}
    return _moved(request, moved, message, removed=False)


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[(StageKind.WON, StageKind.WON.label), (StageKind.LOST, StageKind.LOST.label)]
    )
    reason = forms.ModelChoiceField(
        label=gettext_lazy("Lost reason"),
        queryset=LostReason.objects.filter(active=True).order_by("sort_order", "pk"),
        required=False,
        empty_label=gettext_lazy("Choose a reason"),
    )
    note = forms.CharField(
        label=gettext_lazy("Note"), max_length=2000, required=False, widget=forms.Textarea
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


def _close_form(request, opportunity: Opportunity, outcome: str, form: CloseForm | None = None):
    """The win / lose form as a page (used without JavaScript; the board has a dialog)."""
    form = form or CloseForm(initial={"outcome": outcome, "version": opportunity.version})
    _f, filters = _filters(request)
    return render(
        request,
        "sales/board_close.html",
        {
            "opportunity": opportunity,
            "form": form,
            "outcome": outcome,
            "query": _query(filters),
            "back": _back(request, opportunity),
            "nav_active": "board",
        },
        status=400 if form.is_bound else 200,
    )


@login_required
@require_POST
def board_close(request, pk: int):
    """Win or lose a card's opportunity (``outcome``, ``reason`` for a loss, ``note``,
    ``version``) through the services; the card leaves the board."""
    from tuoke.sales import services

    opportunity = _opportunity_for(request, pk)
    if not _may_edit(request, opportunity):
        return _refused(
            request, opportunity, _("You do not have permission to do this."), status=403
        )
    form = CloseForm(request.POST)
    if not form.is_valid():
        message = " ".join(str(m) for errors in form.errors.values() for m in errors)
        if is_htmx(request):
            return _refused(request, opportunity, message, status=422)
        return _close_form(request, opportunity, request.POST.get("outcome", ""), form)
    data = form.cleaned_data
    version = data.get("version")
    try:
        if data["outcome"] == StageKind.WON:
            closed = services.win(opportunity, by=request.user, note=data["note"], version=version)
            message = _("“%(title)s” was won.") % {"title": closed.title}
        else:
            closed = services.lose(
                opportunity,
                by=request.user,
                reason=data["reason"],
                note=data["note"],
                version=version,
            )
            message = _("“%(title)s” was lost.") % {"title": closed.title}
    except Conflict as exc:
        return _refused(request, opportunity, _message(exc), status=409, refresh=True)
    except ValidationError as exc:
        if is_htmx(request):
            return _refused(request, opportunity, _message(exc), status=422)
        form.add_error(None, _message(exc))
        return _close_form(request, opportunity, data["outcome"], form)
    return _moved(request, closed, message, removed=True)
