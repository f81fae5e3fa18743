"""Forms of the lead and channel pages: they parse and check input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tuoke.core import custom_fields
from tuoke.org.forms import PersonChoiceField, UnitChoiceField, VersionedForm

from .models import Channel, ChannelKind, CleaningKind, Lead, LeadStatus

FACT_FIELDS = (
    "company_name",
    "short_name",
    "credit_code",
    "industry",
    "province",
    "city",
    "contact_name",
    "title",
    "mobile",
    "phone",
    "email",
    "needs",
)


class LeadForm(VersionedForm):
    company_name = forms.CharField(
        label=_("Company name"),
        max_length=200,
        required=False,
        help_text=_("The legal name if known, e.g. 深圳市腾达精密科技有限公司."),
    )
    short_name = forms.CharField(label=_("Short name"), max_length=100, required=False)
    credit_code = forms.CharField(
        label=_("Unified social credit code"), max_length=40, required=False
    )
    industry = forms.CharField(label=_("Industry"), max_length=50, required=False)
    province = forms.CharField(label=_("Province"), max_length=30, required=False)
    city = forms.CharField(label=_("City"), max_length=30, required=False)
    contact_name = forms.CharField(label=_("Contact name"), max_length=50, required=False)
    title = forms.CharField(label=_("Job title"), max_length=50, required=False)
    mobile = forms.CharField(
        label=_("Mobile"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Landline"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "placeholder": "0755-86001234"}),
    )
    email = forms.CharField(
        label=_("E-mail"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    needs = forms.CharField(
        label=_("Needs"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the prospect asked for: product, quantity, budget, timing."),
    )
    channel = forms.ModelChoiceField(
        label=_("Channel"), queryset=Channel.objects.none(), required=False
    )
    owner = PersonChoiceField(
        label=_("Owner"),
        queryset=Channel.objects.none(),
        required=False,
        empty_label=_("(by the assignment rule)"),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            (LeadStatus.NEW, LeadStatus.NEW.label),
            (LeadStatus.WORKING, LeadStatus.WORKING.label),
        ],
    )
    # Set once the user has seen the possible duplicates and saves anyway.
    confirm_duplicates = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, lead: Lead | None = None, assignees=None, **kwargs):
        super().__init__(*args, **kwargs)
        channels = Channel.objects.filter(active=True)
        if lead is not None and lead.channel_id:
            channels = Channel.objects.filter(pk=lead.channel_id) | channels
        self.fields["channel"].queryset = channels.order_by("name")
        if lead is not None or assignees is None:
            del self.fields["owner"]  # the owner changes by assigning
        else:
            self.fields["owner"].queryset = assignees
        if lead is None:
            del self.fields["status"]
        self.fields.update(
            custom_fields.form_fields(
                Lead.custom_fields_target, current=lead.custom if lead else None
            )
        )

    def groups(self) -> list[tuple[str, list]]:
        """The visible fields in sections, for the page."""
        sections = [
            (
                _("Company"),
                ["company_name", "short_name", "credit_code", "industry", "province", "city"],
            ),
            (_("Contact"), ["contact_name", "title", "mobile", "phone", "email"]),
            (_("Lead"), ["needs", "channel", "owner", "status"]),
        ]
        groups = [
            (label, [self[name] for name in names if name in self.fields])
            for label, names in sections
        ]
        custom = [self[name] for name in self.fields if name.startswith(custom_fields.FORM_PREFIX)]
        if custom:
            groups.append((_("More fields"), custom))
        return groups

    def facts(self) -> dict:
        data = self.cleaned_data
        return {name: data.get(name, "") for name in FACT_FIELDS}

    def custom_values(self, current=None) -> dict:
        return custom_fields.values_from_form(
            Lead.custom_fields_target, self.cleaned_data, current=current
        )


class CleanForm(VersionedForm):
    kind = forms.ChoiceField(
        label=_("Cleaned as"), choices=CleaningKind.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept with the lead, e.g. “empty number” or “same company as lead #12”."),
    )


class AssignForm(forms.Form):
    to = PersonChoiceField(label=_("Give to"), queryset=Channel.objects.none())
    reason = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, assignees=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = assignees


NEW_CUSTOMER = "new"


class ConvertForm(forms.Form):
    target = forms.ChoiceField(label=_("Convert into"), widget=forms.RadioSelect)
    legal_name = forms.CharField(label=_("Legal name"), max_length=200, required=False)
    short_name = forms.CharField(label=_("Short name"), max_length=100, required=False)
    credit_code = forms.CharField(
        label=_("Unified social credit code"), max_length=40, required=False
    )
    industry = forms.CharField(label=_("Industry"), max_length=50, required=False)
    province = forms.CharField(label=_("Province"), max_length=30, required=False)
    city = forms.CharField(label=_("City"), max_length=30, required=False)
    contact_name = forms.CharField(
        label=_("Contact name"),
        max_length=50,
        required=False,
        help_text=_("Leave empty to add no contact."),
    )
    contact_title = forms.CharField(label=_("Job title"), max_length=50, required=False)
    contact_mobile = forms.CharField(label=_("Mobile"), max_length=40, required=False)
    contact_phone = forms.CharField(label=_("Landline"), max_length=40, required=False)
    contact_email = forms.CharField(label=_("E-mail"), max_length=254, required=False)
    allow_similar = forms.BooleanField(
        label=_("I checked the similar customers: this is a different company"), required=False
    )
    opportunity = forms.BooleanField(
        label=_("Also create an opportunity"),
        required=False,
        widget=forms.CheckboxInput(
            attrs={"x-model": "opportunity", "data-testid": "with-opportunity"}
        ),
    )
    opportunity_title = forms.CharField(
        label=_("Opportunity title"), max_length=200, required=False
    )
    opportunity_amount = forms.DecimalField(
        label=_("Amount"), max_digits=16, decimal_places=2, min_value=0, required=False
    )
    opportunity_expected_close_date = forms.DateField(
        label=_("Expected close date"),
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )

    CUSTOMER_FIELDS = ("legal_name", "short_name", "credit_code", "industry", "province", "city")
    CONTACT_FIELDS = {
        "name": "contact_name",
        "title": "contact_title",
        "mobile": "contact_mobile",
        "phone": "contact_phone",
        "email": "contact_email",
    }

    OPPORTUNITY_FIELDS = {
        "title": "opportunity_title",
        "amount": "opportunity_amount",
        "expected_close_date": "opportunity_expected_close_date",
    }

    def __init__(self, *args, targets=(), with_opportunity=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [
            (NEW_CUSTOMER, _("A new customer")),
            *((str(c.pk), c.display_name) for c in targets),
        ]
        if not with_opportunity:  # no right to create opportunities: no such choice
            for name in ("opportunity", *self.OPPORTUNITY_FIELDS.values()):
                del self.fields[name]

    def clean(self):
        cleaned = super().clean()
        if "opportunity" in self.fields and not cleaned.get("opportunity"):
            # The hidden opportunity fields do not count when no opportunity is wanted.
            for name in self.OPPORTUNITY_FIELDS.values():
                self._errors.pop(name, None)
        return cleaned

    def opportunity_bound_fields(self) -> list:
        return [self[name] for name in self.OPPORTUNITY_FIELDS.values() if name in self.fields]

    def opportunity_facts(self) -> dict | None:
        """The facts of the opportunity to open with the conversion, or None for none."""
        if not self.cleaned_data.get("opportunity"):
            return None
        return {key: self.cleaned_data.get(name) for key, name in self.OPPORTUNITY_FIELDS.items()}

    def customer_bound_fields(self) -> list:
        return [self[name] for name in self.CUSTOMER_FIELDS]

    def contact_bound_fields(self) -> list:
        return [self[name] for name in self.CONTACT_FIELDS.values()]

    def customer_facts(self) -> dict:
        return {name: self.cleaned_data.get(name, "") for name in self.CUSTOMER_FIELDS}

    def contact_facts(self) -> dict:
        return {key: self.cleaned_data.get(name, "") for key, name in self.CONTACT_FIELDS.items()}

    def field_for(self, error_field: str) -> str | None:
        """The form field a conversion error (``customer.legal_name``, ``contact.mobile``)
        belongs on."""
        prefix, _dot, name = error_field.partition(".")
        if prefix == "customer" and name in self.fields:
            return name
        if prefix == "contact":
            return self.CONTACT_FIELDS.get(name or "name")
        if prefix == "opportunity" and self.OPPORTUNITY_FIELDS.get(name) in self.fields:
            return self.OPPORTUNITY_FIELDS[name]
        return None


class RecordForm(VersionedForm):
    """A form whose fields are the record's own, one for one: ``initial_for`` fills it from
    the record, ``facts`` gives the services their keyword arguments."""

    @classmethod
    def initial_for(cls, record) -> dict[str, Any]:
        return {name: getattr(record, name) for name in cls.base_fields}

    def facts(self) -> dict[str, Any]:
        return {name: value for name, value in self.cleaned_data.items() if name != "version"}


class ChannelForm(RecordForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=ChannelKind.choices)
    active = forms.BooleanField(
        label=_("Active"),
        required=False,
        initial=True,
        help_text=_("Inactive channels take no new leads."),
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class CostForm(RecordForm):
    period_start = forms.DateField(
        label=_("From"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        input_formats=["%Y-%m-%d"],
    )
    period_end = forms.DateField(
        label=_("Until"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        input_formats=["%Y-%m-%d"],
    )
    amount = forms.DecimalField(
        label=_("Amount (CNY)"),
        min_value=0,
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class RuleForm(RecordForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    channel = forms.ModelChoiceField(
        label=_("Channel"),
        queryset=Channel.objects.none(),
        required=False,
        empty_label=_("(every channel)"),
    )
    unit = UnitChoiceField(
        label=_("Unit"),
        queryset=Channel.objects.none(),
        required=False,
        empty_label=_("(anyone)"),
        help_text=_("Leads entered by people of this unit and the units below it."),
    )
    members = forms.ModelMultipleChoiceField(
        label=_("Members"),
        queryset=Channel.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("New leads go to them in turn; deactivated users are skipped."),
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    sort_order = forms.IntegerField(
        label=_("Order"),
        initial=0,
        min_value=-1000,
        max_value=1000,
        help_text=_("Among equally specific rules, the lowest wins."),
    )

    def __init__(self, *args, units=None, members=None, unit_required=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = Channel.objects.order_by("name")
        self.fields["unit"].queryset = units
        self.fields["unit"].required = unit_required
        self.fields["members"].queryset = members

    def facts(self) -> dict[str, Any]:
        return {**super().facts(), "members": list(self.cleaned_data["members"])}


class BulkForm(forms.Form):
    """The bulk actions of the lead list: assign or clean the chosen leads."""

    ACTIONS = (("assign", _("Assign")), ("clean", _("Clean")))

    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    ids = forms.CharField(widget=forms.HiddenInput)
    to = PersonChoiceField(label=_("Give to"), queryset=Channel.objects.none(), required=False)
    kind = forms.ChoiceField(
        label=_("Cleaned as"), choices=[("", "—"), *CleaningKind.choices], required=False
    )
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, assignees=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = assignees

    def clean_ids(self) -> list[int]:
        raw = self.cleaned_data["ids"]
        try:
            ids = sorted({int(part) for part in raw.split(",") if part.strip()})
        except ValueError:
            raise forms.ValidationError(_("Choose the leads again."), code="invalid") from None
        if not ids:
            raise forms.ValidationError(_("Choose at least one lead."), code="required")
        if len(ids) > 500:
            raise forms.ValidationError(_("Choose at most 500 leads at a time."), code="invalid")
        return ids

    def clean(self):
        data = super().clean()
        if data.get("action") == "assign" and not data.get("to"):
            self.add_error(
                "to", forms.ValidationError(_("Choose whom to give them to."), code="required")
            )
        if data.get("action") == "clean":
            if not data.get("kind"):
                self.add_error(
                    "kind",
                    forms.ValidationError(_("Choose invalid, duplicate or junk."), code="required"),
                )
            if not (data.get("reason") or "").strip():
                self.add_error(
                    "reason",
                    forms.ValidationError(_("Say why the leads are cleaned."), code="required"),
                )
        return data
