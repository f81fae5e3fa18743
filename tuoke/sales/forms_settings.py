"""Forms of the settings pages (pipelines, stages, lost reasons, products): they parse the
input; ``tuoke.sales.config`` decides what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tuoke.org.forms import VersionedForm

from . import config


class SettingsForm(VersionedForm):
    """``facts`` gives the services their keyword arguments; ``initial_for`` fills the form
    from the record."""

    @classmethod
    def initial_for(cls, record) -> dict[str, Any]:
        return {name: getattr(record, name) for name in cls.base_fields}

    def facts(self) -> dict[str, Any]:
        return {name: value for name, value in self.cleaned_data.items() if name != "version"}


class PipelineForm(SettingsForm):
    name = forms.CharField(label=_("Name"), max_length=60)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    is_default = forms.BooleanField(
        label=_("Default pipeline"),
        required=False,
        help_text=_("New opportunities go here unless the rep chooses another pipeline."),
    )
    active = forms.BooleanField(
        label=_("Active"),
        required=False,
        help_text=_("An inactive pipeline takes no new opportunities; its deals stay."),
    )


class StageForm(SettingsForm):
    name = forms.CharField(label=_("Name"), max_length=50)
    probability = forms.IntegerField(
        label=_("Win probability (%)"), min_value=0, max_value=100, initial=10
    )
    expected_days = forms.IntegerField(
        label=_("Expected days in stage"),
        min_value=1,
        max_value=3650,
        required=False,
        help_text=_("An opportunity idle longer than this becomes a task in its owner's plan."),
    )
    required_fields = forms.MultipleChoiceField(
        label=_("Required to enter"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("An opportunity cannot move into this stage without these fields."),
    )
    marks_intent = forms.BooleanField(
        label=_("Customer shows intent"),
        required=False,
        help_text=_("Reaching this stage moves the customer's lifecycle to intent."),
    )

    def __init__(self, *args, stage=None, **kwargs):
        super().__init__(*args, **kwargs)
        keep = stage.required_fields if stage is not None else ()
        self.fields["required_fields"].choices = config.requirable_choices(keep=keep)
        if stage is not None and stage.is_closed:
            # The end stages keep their probability and never mark intent.
            del self.fields["probability"]
            del self.fields["marks_intent"]
            del self.fields["expected_days"]


class NewStageForm(StageForm):
    """The short form under a pipeline's stages: a name and a probability (the rest is
    edited on the stage)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("expected_days", "required_fields", "marks_intent"):
            del self.fields[name]


class LostReasonForm(SettingsForm):
    name = forms.CharField(label=_("Name"), max_length=60)


class ProductForm(SettingsForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    code = forms.CharField(
        label=_("Code"), max_length=40, required=False, help_text=_("Unique when given.")
    )
    unit = forms.CharField(
        label=pgettext_lazy("measure", "Unit"),
        max_length=20,
        required=False,
        help_text=_("e.g. 台, 套, 年"),
    )
    price = forms.DecimalField(
        label=_("List price"), min_value=0, max_digits=14, decimal_places=2, initial=0
    )
    currency = forms.CharField(
        label=_("Currency"),
        min_length=3,
        max_length=3,
        initial="CNY",
        help_text=_("Three letters, e.g. CNY or USD."),
    )
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    active = forms.BooleanField(
        label=_("Active"),
        required=False,
        initial=True,
        help_text=_("Inactive products are no longer offered on new opportunity lines."),
    )
