"""The contract settings page (administer on contracts): the sales credit rule, the renewal
reminder and the contract numbering with a live preview of the next number. Saved through
``services.update_settings``, which audits every change (the numbering on its sequence)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from tuoke.core import sequences
from tuoke.core.errors import fields_renamed
from tuoke.core.models import Action, AuditEntry, Sequence
from tuoke.core.scope import require
from tuoke.core.views import add_service_error, paginate

from . import services
from .forms_settings import ContractSettingsForm
from .models import Contract, ContractSettings

# The numbering's errors name the sequence's fields.
NUMBER_FIELDS = {"pattern": "number_pattern", "reset": "number_reset"}
HISTORY_PAGE_SIZE = 10


def next_number_preview(pattern: str, reset: str) -> str:
    """The number the next contract would get with this pattern and restart (numbers typed
    by hand aside); a ValidationError naming "pattern" when the pattern is not valid."""
    today = timezone.localdate()
    pattern = sequences.check_pattern(pattern, reset=reset)
    sequence = services.number_sequence()
    # As sequences.next_value counts: on from the last value within the same period.
    period = sequences.period_of(reset, today)
    value = sequence.last_value + 1 if sequence.pk and sequence.period == period else 1
    return sequences.render(pattern, on=today, value=value)


def _history(request, settings_row: ContractSettings, sequence: Sequence):
    """Changes of the settings and of the numbering, newest first."""
    condition = Q(
        content_type=ContentType.objects.get_for_model(ContractSettings), object_id=settings_row.pk
    )
    if sequence.pk:
        condition |= Q(
            content_type=ContentType.objects.get_for_model(Sequence), object_id=sequence.pk
        )
    entries = AuditEntry.objects.filter(condition).select_related("actor").order_by("-at", "-pk")
    page = paginate(request, entries, HISTORY_PAGE_SIZE, param="audit_page", count_cap=None)
    for entry in page.object_list:
        entry.shown_changes = [
            {**change, "label": str(change.get("label") or change.get("field", ""))}
            for change in entry.display_changes
        ]
    return page


@login_required
def contract_settings(request):
    require(request.user, Contract.record_type, Action.ADMINISTER)
    settings_row = ContractSettings.current()
    sequence = services.number_sequence()
    initial = ContractSettingsForm.initial_for(settings_row, sequence)
    form = ContractSettingsForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                with fields_renamed(NUMBER_FIELDS):
                    services.update_settings(by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("The contract settings were saved."))
                return redirect("contracts:settings")
        status = 400
    preview, preview_error = _preview_of(
        form["number_pattern"].value() or "", form["number_reset"].value() or ""
    )
    return render(
        request,
        "contracts/settings.html",
        {
            "form": form,
            "preview": preview,
            "preview_error": preview_error,
            "audit_page": _history(request, settings_row, sequence),
            "nav_active": "contract_settings",
        },
        status=status,
    )


def _preview_of(pattern: str, reset: str) -> tuple[str, str]:
    if reset not in Sequence.Reset.values:
        return "", _("Choose when the counter restarts.")
    try:
        return next_number_preview(pattern, reset), ""
    except ValidationError as exc:
        return "", " ".join(exc.messages)


@login_required
def settings_preview(request):
    """The next number for the pattern being typed (an htmx fragment)."""
    require(request.user, Contract.record_type, Action.ADMINISTER)
    preview, error = _preview_of(
        request.GET.get("number_pattern", ""), request.GET.get("number_reset", "")
    )
    return render(
        request, "contracts/settings_preview.html", {"preview": preview, "preview_error": error}
    )
