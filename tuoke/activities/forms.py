"""Forms of the follow-up, visit and comment pages: they parse what was typed; the services
decide whether it may be saved."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tuoke.customers.models import Contact

from .models import FollowUpKind

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def _datetime_input() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT)


def _date_input(**attrs: str) -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date", **attrs}, format="%Y-%m-%d")


class ContactChoices(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj: Contact) -> str:
        return f"{obj.name} · {obj.title}" if obj.title else obj.name


class OutcomeFields(forms.Form):
    """What happened and what comes next: a follow-up's content, or a visit's when it is done."""

    content = forms.CharField(
        label=_("What happened"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4, "data-testid": "content"}),
        error_messages={"required": _("Write what happened.")},
    )
    contacts = ContactChoices(
        label=_("Who took part"), queryset=Contact.objects.none(), required=False
    )
    result = forms.CharField(
        label=_("Result"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. wants a quotation")}),
    )
    next_step = forms.CharField(
        label=_("Next step"),
        max_length=200,
        required=False,
        widget=forms.TextInput(
            attrs={"placeholder": _("e.g. send the quotation"), "data-testid": "next-step"}
        ),
    )
    next_step_on = forms.DateField(
        label=_("Next step on"),
        required=False,
        widget=_date_input(**{"x-ref": "nextOn", "data-testid": "next-step-on"}),
    )

    def __init__(self, *args, contacts=None, **kwargs):
        super().__init__(*args, **kwargs)
        if contacts is not None:
            self.fields["contacts"].queryset = contacts
        else:
            del self.fields["contacts"]

    def outcome(self) -> dict:
        data = self.cleaned_data
        facts = {
            "content": data["content"],
            "result": data.get("result", ""),
            "next_step": data.get("next_step", ""),
            "next_step_on": data.get("next_step_on"),
        }
        if "contacts" in self.fields:
            facts["contacts"] = list(data.get("contacts") or [])
        return facts


class KindChoice(forms.ModelChoiceField):
    widget = forms.RadioSelect

    def label_from_instance(self, obj: FollowUpKind) -> str:
        return obj.label


class FollowUpForm(OutcomeFields):
    """A follow-up: the kind (chips), what happened, and optionally when, who, the result and
    the next step. Only the content has to be typed: the kind comes with the link or defaults."""

    field_order = ["kind", "content", "happened_at", "contacts", "result", "next_step"]

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    kind = KindChoice(
        label=_("Kind"),
        queryset=FollowUpKind.objects.none(),
        to_field_name="key",
        empty_label=None,
        error_messages={"required": _("Choose a kind of follow-up.")},
    )
    happened_at = forms.DateTimeField(
        label=_("When"),
        required=False,
        widget=_datetime_input(),
        help_text=_("Empty: now."),
    )

    def __init__(self, *args, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].queryset = kinds


class VisitForm(forms.Form):
    planned_at = forms.DateTimeField(
        label=_("When"),
        widget=_datetime_input(),
        error_messages={"required": _("Say when the visit takes place.")},
    )
    purpose = forms.CharField(
        label=_("Purpose"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. demonstrate the new line")}),
    )
    contacts = ContactChoices(
        label=_("Whom you meet"), queryset=Contact.objects.none(), required=False
    )

    def __init__(self, *args, contacts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contacts"].queryset = contacts
        if not self.is_bound and "planned_at" not in self.initial:
            # The next full hour, the usual answer to "when".
            soon = timezone.localtime() + timedelta(hours=1)
            self.initial["planned_at"] = soon.replace(minute=0, second=0, microsecond=0)


class CheckInForm(forms.Form):
    """Filled by the page's script from the browser's geolocation; all optional."""

    latitude = forms.DecimalField(required=False, widget=forms.HiddenInput)
    longitude = forms.DecimalField(required=False, widget=forms.HiddenInput)
    accuracy_m = forms.FloatField(required=False, widget=forms.HiddenInput)
    # Why there is no place: "denied", "unavailable", "timeout", "unsupported".
    geo_error = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)
    address = forms.CharField(
        label=_("Where are you? (optional)"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. the customer's office, 3rd floor")}),
    )


class CancelVisitForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Comment"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Write a comment.")},
    )


class KindForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label=_("Name"), max_length=50)
    icon = forms.CharField(
        label=_("Icon"),
        max_length=30,
        required=False,
        help_text=_("A Tabler icon name, e.g. phone, mail, users."),
    )
