"""Pages every app shares: the recycle bin, and the helpers record pages use for the audit
trail, pagination and turning service errors into form errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.paginator import Page, Paginator
from django.db import models
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from . import services
from .audit import trail_of
from .errors import Conflict
from .lists import capped_count
from .models import Action, TrackedModel
from .scope import can, get_for, recyclable_types, scope_queryset

AUDIT_PAGE_SIZE = 20


# --- Helpers for record pages -------------------------------------------------------------------


def is_htmx(request) -> bool:
    """Whether htmx sent the request (it is answered with a fragment)."""
    return request.headers.get("HX-Request") == "true"


def next_url(request, default: str) -> str:
    """Where to go after a form: the ``next`` parameter when it stays on this site, else
    ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


class CappedPaginator(Paginator):
    """A paginator that counts at most ``cap`` + 1 rows of a queryset (one LIMITed subquery),
    so a list of millions still pages fast; ``capped`` says the real count is larger. The
    pages beyond the cap are not reachable: narrow the filters instead."""

    def __init__(self, object_list, per_page, *, cap: int | None, counted=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap
        # The same rows written for counting, if that is cheaper (see owners_as_ids).
        self.counted = counted if counted is not None else object_list

    @cached_property
    def count(self) -> int:
        if self.cap is None or not isinstance(self.counted, models.QuerySet):
            return super().count
        return capped_count(self.counted, self.cap)

    @property
    def capped(self) -> bool:
        return self.cap is not None and self.count > self.cap


_SETTING = object()


def paginate(
    request,
    queryset,
    per_page: int | None = None,
    param: str = "page",
    *,
    count_cap: int | object | None = _SETTING,
    counted=None,
) -> Page:
    """One page of ``queryset`` from the ``page`` query parameter (bad numbers → nearest page),
    counting at most ``count_cap`` rows (None: count them all; by default the setting
    ``LIST_COUNT_CAP``) of ``counted``, the same rows as a queryset that counts
    faster, if given."""
    if count_cap is _SETTING:
        count_cap = settings.LIST_COUNT_CAP
    cap = cast("int | None", count_cap)
    paginator = CappedPaginator(
        queryset, per_page or settings.LIST_PAGE_SIZE, cap=cap, counted=counted
    )
    return paginator.get_page(request.GET.get(param))


def audit_trail(request, instance: models.Model, *, per_page: int = AUDIT_PAGE_SIZE) -> Page:
    """One page of a record's audit trail for ``core/_audit_trail.html`` (the caller has
    checked that the user may see the record). Field labels are shown in the reader's
    language where the field still exists."""
    # One record's trail is short enough to count exactly.
    page = paginate(request, trail_of(instance), per_page, param="audit_page", count_cap=None)
    model = type(instance)
    for entry in page.object_list:
        entry.shown_changes = [_labelled(model, change) for change in entry.display_changes]
    return page


def _labelled(model: type[models.Model], change: dict) -> dict:
    try:
        label = getattr(model._meta.get_field(change.get("field", "")), "verbose_name", None)
    except FieldDoesNotExist:
        label = None
    return {**change, "label": str(label or change.get("label") or change.get("field", ""))}


def add_service_error(form, exc: ValidationError | Conflict) -> None:
    """Show a service's refusal on the form: on the named field when the form has it."""
    if isinstance(exc, Conflict):
        form.add_error(None, str(exc.message))
        return
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        form.add_error(None, exc)


# --- Recycle bin --------------------------------------------------------------------------------


@dataclass
class BinRow:
    record_type: str
    type_label: str
    record: TrackedModel
    deleted_at: datetime
    purge_after: datetime
    can_purge: bool


def _deleted_in_scope(user, model: type[TrackedModel]):
    return scope_queryset(model.all_objects.deleted(), user, Action.DELETE)


@login_required
def recycle_bin(request):
    """Deleted records of every type the user may delete, newest deletion first."""
    types = recyclable_types()
    chosen = request.GET.get("type", "")
    if chosen not in types:
        chosen = ""
    shown = {chosen: types[chosen]} if chosen else types
    per_page = settings.LIST_PAGE_SIZE
    try:
        number = max(int(request.GET.get("page", 1)), 1)
    except ValueError:
        number = 1
    # Merge the newest (page × size) of each type; one count and one key query per type.
    keys: list[tuple[datetime, str, int]] = []
    total = 0
    for key, model in shown.items():
        queryset = _deleted_in_scope(request.user, model)
        total += queryset.count()
        newest = queryset.order_by("-deleted_at", "-pk").values_list("deleted_at", "pk")
        keys += [(at, key, pk) for at, pk in newest[: number * per_page]]
    pages = max((total + per_page - 1) // per_page, 1)
    number = min(number, pages)
    keys.sort(key=lambda k: (k[0], k[1], k[2]), reverse=True)
    window = keys[(number - 1) * per_page : number * per_page]
    wanted: dict[str, list[int]] = {}
    for _at, key, pk in window:
        wanted.setdefault(key, []).append(pk)
    records: dict[tuple[str, int], TrackedModel] = {}
    for key, pks in wanted.items():
        for record in types[key].all_objects.filter(pk__in=pks).select_related("deleted_by"):
            records[(key, record.pk)] = record
    now = timezone.now()
    administer = {key: can(request.user, key, Action.ADMINISTER) for key in wanted}
    rows = []
    for at, key, pk in window:
        record = records.get((key, pk))
        if record is None:
            continue
        purge_after = services.purge_date(record)
        rows.append(
            BinRow(
                record_type=key,
                type_label=str(types[key]._meta.verbose_name),
                record=record,
                deleted_at=at,
                purge_after=purge_after,
                can_purge=administer[key] and purge_after <= now,
            )
        )
    type_choices = [(key, model._meta.verbose_name_plural) for key, model in types.items()]
    return render(
        request,
        "core/recycle_bin.html",
        {
            "rows": rows,
            "total": total,
            "number": number,
            "pages": pages,
            "has_previous": number > 1,
            "has_next": number < pages,
            "type_choices": type_choices,
            "chosen": chosen,
            "retention_days": settings.RECYCLE_BIN_RETENTION_DAYS,
        },
    )


def _deleted_record_for(user, record_type: str, pk: int) -> TrackedModel:
    model = recyclable_types().get(record_type)
    if model is None:
        raise Http404
    return get_for(user, model.all_objects.deleted(), pk, Action.DELETE)


def _confirm(request, record, record_type, *, action: str, error: str = ""):
    return render(
        request,
        "core/confirm.html",
        {
            "record": record,
            "record_type": record_type,
            "type_label": type(record)._meta.verbose_name,
            "action": action,
            "purge_after": services.purge_date(record),
            "error": error,
        },
        status=400 if error else 200,
    )


@login_required
def restore(request, record_type: str, pk: int):
    record = _deleted_record_for(request.user, record_type, pk)
    if request.method != "POST":
        return _confirm(request, record, record_type, action="restore")
    try:
        services.restore(record, by=request.user)
    except ValidationError as exc:
        return _confirm(request, record, record_type, action="restore", error=_first(exc))
    messages.success(request, _("“%(record)s” was restored.") % {"record": record})
    return redirect("core:recycle_bin")


@login_required
def purge(request, record_type: str, pk: int):
    record = _deleted_record_for(request.user, record_type, pk)
    if not can(request.user, record_type, Action.ADMINISTER):
        raise Http404
    if request.method != "POST":
        return _confirm(request, record, record_type, action="purge")
    name = str(record)
    try:
        services.purge(record, by=request.user)
    except ValidationError as exc:
        return _confirm(request, record, record_type, action="purge", error=_first(exc))
    except models.ProtectedError:
        return _confirm(
            request,
            record,
            record_type,
            action="purge",
            error=_("Other records still refer to it, so it cannot be purged yet."),
        )
    messages.success(request, _("“%(record)s” was purged for good.") % {"record": name})
    return redirect("core:recycle_bin")


def _first(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)
