"""Administrator pages for custom field definitions: list, create, edit, delete.

Everyone reads the definitions through the forms of the records they belong to; these pages
are for administrators of the ``custom_field`` record type only, so a definition is fetched
with the ``administer`` action (anyone else gets 404 for it). Writes go through
``tuoke.core.custom_fields``.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import custom_fields
from .errors import Conflict
from .models import Action, CustomField
from .scope import get_for, require, scope_queryset
from .views import add_service_error, audit_trail, paginate

RECORD_TYPE = CustomField.record_type
LIST_PAGE_SIZE = 100


class CustomFieldForm(forms.Form):
    """A definition as the administrator types it; the service decides what is allowed."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    target = forms.ChoiceField(label=gettext_lazy("Record type"))
    key = forms.CharField(
        label=gettext_lazy("Key"),
        max_length=50,
        help_text=gettext_lazy(
            "The name in the API, imports and exports: lowercase letters, digits and “_”, "
            "e.g. erp_number."
        ),
    )
    label = forms.CharField(label=gettext_lazy("Label"), max_length=100)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=CustomField.Kind.choices)
    choices = forms.CharField(
        label=gettext_lazy("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy(
            "One per line, for the kinds “Choice” and “Multiple choice”. Records that hold a "
            "choice you remove keep it."
        ),
    )
    required = forms.BooleanField(label=gettext_lazy("Required"), required=False)
    help_text = forms.CharField(
        label=gettext_lazy("Help text"),
        required=False,
        max_length=300,
        help_text=gettext_lazy("Shown under the field in forms."),
    )
    sort_order = forms.IntegerField(
        label=gettext_lazy("Sort order"),
        initial=0,
        help_text=gettext_lazy("Fields with a smaller number come first."),
    )
    show_in_list = forms.BooleanField(label=gettext_lazy("Show in lists"), required=False)

    FIXED = ("target", "key", "kind")

    def __init__(self, *args, field: CustomField | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        options = list(custom_fields.targets().items())
        if field is not None:
            if field.target not in dict(options):
                options.append((field.target, field.target))
            for name in self.FIXED:
                self.fields[name].disabled = True
                self.fields[name].help_text = custom_fields.IMMUTABLE[name]
        self.fields["target"].choices = [("", "—"), *options]

    def clean_choices(self) -> list[str]:
        text = self.cleaned_data.get("choices") or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


def _definition_for(user, pk: int) -> CustomField:
    return get_for(user, CustomField.objects.all(), pk, Action.ADMINISTER)


@login_required
def field_list(request):
    """The definitions grouped by record type, in their order."""
    require(request.user, RECORD_TYPE, Action.ADMINISTER)
    definitions = scope_queryset(
        CustomField.objects.all(), request.user, Action.ADMINISTER
    ).order_by("target", "sort_order", "label", "pk")
    page = paginate(request, definitions, per_page=LIST_PAGE_SIZE)
    labels = custom_fields.targets()
    groups: list[dict] = []
    for definition in page.object_list:
        if not groups or groups[-1]["target"] != definition.target:
            groups.append(
                {
                    "target": definition.target,
                    "label": labels.get(definition.target, definition.target),
                    "registered": definition.target in labels,
                    "fields": [],
                }
            )
        groups[-1]["fields"].append(definition)
    return render(
        request,
        "core/custom_fields/list.html",
        {"page_obj": page, "groups": groups, "has_targets": bool(labels)},
    )


@login_required
def field_create(request):
    require(request.user, RECORD_TYPE, Action.ADMINISTER)
    initial = {"target": request.GET.get("target", ""), "sort_order": 0}
    form = CustomFieldForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            field = custom_fields.create_custom_field(
                target=data["target"],
                key=data["key"],
                label=data["label"],
                kind=data["kind"],
                choices=data["choices"],
                required=data["required"],
                help_text=data["help_text"],
                sort_order=data["sort_order"],
                show_in_list=data["show_in_list"],
                by=request.user,
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Custom field “%(name)s” was created.") % {"name": field})
            return redirect("custom_fields:list")
    return render(
        request,
        "core/custom_fields/form.html",
        {"form": form, "field": None, "has_targets": bool(custom_fields.targets())},
    )


@login_required
def field_edit(request, pk: int):
    field = _definition_for(request.user, pk)
    initial = {
        "target": field.target,
        "key": field.key,
        "label": field.label,
        "kind": field.kind,
        "choices": "\n".join(field.choices),
        "required": field.required,
        "help_text": field.help_text,
        "sort_order": field.sort_order,
        "show_in_list": field.show_in_list,
        "version": field.version,
    }
    form = CustomFieldForm(request.POST or None, initial=initial, field=field)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            custom_fields.update_custom_field(
                field,
                by=request.user,
                expected_version=data.get("version"),
                label=data["label"],
                choices=data["choices"],
                required=data["required"],
                help_text=data["help_text"],
                sort_order=data["sort_order"],
                show_in_list=data["show_in_list"],
            )
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Custom field “%(name)s” was saved.") % {"name": field})
            return redirect("custom_fields:list")
    return render(
        request,
        "core/custom_fields/form.html",
        {
            "form": form,
            "field": field,
            "target_label": custom_fields.target_label(field.target),
            "audit_page": audit_trail(request, field),
        },
    )


@login_required
def field_delete(request, pk: int):
    field = _definition_for(request.user, pk)
    if request.method == "POST":
        custom_fields.delete_custom_field(field, by=request.user)
        messages.success(
            request,
            _("Custom field “%(name)s” was moved to the recycle bin.") % {"name": field},
        )
        return redirect("custom_fields:list")
    return render(
        request,
        "core/custom_fields/delete.html",
        {"field": field, "target_label": custom_fields.target_label(field.target)},
    )
