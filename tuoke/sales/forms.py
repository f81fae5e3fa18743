"""Forms of the opportunity pages: they parse and check input; ``tuoke.sales.services``
decides (required fields of a stage, history, versions)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tuoke.core import custom_fields
from tuoke.customers.models import Contact, Customer
from tuoke.leads.models import Channel, Lead
from tuoke.org.forms import PersonChoiceField, UnitChoiceField, VersionedForm
from tuoke.org.models import OrgUnit, User

from .models import (
    LostReason,
    Opportunity,
    OpportunityStatus,
    Pipeline,
    Product,
    Stage,
    StageKind,
)

# Lines a form takes at most (a deal with more items is a quotation, not an opportunity).
MAX_LINES = 50
CURRENCIES = ("CNY", "USD", "EUR", "HKD", "JPY")

# --- The opportunity form -----------------------------------------------------------------------


class StageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Stage) -> str:
        return f"{obj.name} ({obj.probability}%)"


class LineForm(forms.Form):
    """One product line: a catalogue product (fills name and price in the page) or free text."""

    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.none(), required=False
    )
    name = forms.CharField(label=_("Item"), max_length=100, required=False)
    quantity = forms.DecimalField(
        label=_("Quantity"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
    )
    unit_price = forms.DecimalField(
        label=_("Unit price"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
    )

    def __init__(self, *args, products=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = (
            products if products is not None else Product.objects.filter(active=True)
        )

    @property
    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {}) or {}
        return not data.get("product") and not (data.get("name") or "").strip()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.is_blank:
            return data
        product = data.get("product")
        if not (data.get("name") or "").strip():
            if product is None:
                self.add_error("name", _("Name the item."))
            else:
                data["name"] = product.name
        if data.get("unit_price") is None:
            if product is not None:
                data["unit_price"] = product.price
            elif "unit_price" not in self.errors:
                self.add_error("unit_price", _("Enter the unit price."))
        if data.get("quantity") is None and "quantity" not in self.errors:
            data["quantity"] = Decimal("1")
        return data

    def line(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "product": data.get("product"),
            "name": data["name"].strip(),
            "quantity": data["quantity"],
            "unit_price": data["unit_price"],
        }


class LineFormSet(forms.BaseFormSet):
    def lines(self) -> list[dict[str, Any]]:
        return [f.line() for f in self.forms if f.is_valid() and not f.is_blank]


LineFormSetFactory = forms.formset_factory(
    LineForm,
    formset=LineFormSet,
    extra=0,
    max_num=MAX_LINES,
    validate_max=True,
    absolute_max=MAX_LINES,
)


def line_formset(data=None, *, initial=None, products=None) -> LineFormSet:
    return LineFormSetFactory(
        data, initial=initial, prefix="lines", form_kwargs={"products": products}
    )


class OpportunityForm(VersionedForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    amount = forms.DecimalField(
        label=_("Amount"),
        max_digits=16,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        help_text=_("Left empty, it is the total of the product lines."),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=[(c, c) for c in CURRENCIES])
    expected_close_date = forms.DateField(
        label=_("Expected close date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    pipeline = forms.ModelChoiceField(
        label=_("Pipeline"), queryset=Pipeline.objects.none(), empty_label=None
    )
    stage = StageChoiceField(
        label=_("Starting stage"),
        queryset=Stage.objects.none(),
        required=False,
        empty_label=_("(the pipeline's first stage)"),
    )
    contacts = forms.ModelMultipleChoiceField(
        label=_("Contacts involved"),
        queryset=Contact.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    owner = PersonChoiceField(
        label=_("Owner"), queryset=User.objects.none(), required=False, empty_label=_("(me)")
    )
    team = forms.ModelMultipleChoiceField(
        label=_("Team"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("Colleagues who work the deal with its owner: they see and edit it."),
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    source_lead = forms.ModelChoiceField(
        label=_("Source lead"), queryset=Lead.objects.none(), required=False
    )
    channel = forms.ModelChoiceField(
        label=_("Channel"), queryset=Channel.objects.none(), required=False
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(
        self,
        *args,
        customer: Customer,
        user: User,
        opportunity: Opportunity | None = None,
        owners=None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.opportunity = opportunity
        self.fields["team"].queryset = (
            User.objects.visible_to(user).filter(is_active=True).order_by("username")
        )
        self.fields["contacts"].queryset = (
            Contact.objects.visible_to(user).filter(customer=customer).order_by("name", "pk")
        )
        self.fields["source_lead"].queryset = Lead.objects.visible_to(user).filter(
            converted_customer=customer
        )
        channels = Channel.objects.filter(active=True)
        if opportunity is not None and opportunity.channel_id:
            channels = channels | Channel.objects.filter(pk=opportunity.channel_id)
        self.fields["channel"].queryset = channels.order_by("name")
        if opportunity is None:
            pipelines = Pipeline.objects.filter(active=True)
            self.fields["pipeline"].queryset = pipelines
            # The page offers only the chosen pipeline's stages (opportunity_form.html).
            self.fields["pipeline"].widget.attrs.update(
                {"x-model": "pipeline", "@change": "stage = ''"}
            )
            default = next((p for p in pipelines if p.is_default), None)
            if default is not None and "pipeline" not in self.initial:
                self.initial["pipeline"] = default.pk
            self.fields["stage"].queryset = Stage.objects.filter(
                pipeline__active=True, active=True, kind=StageKind.OPEN
            ).order_by("pipeline", "sort_order", "pk")
            if owners is None:
                del self.fields["owner"]
            else:
                self.fields["owner"].queryset = owners
        else:
            # Pipeline and stage change on the opportunity's page (moves), the owner by handover.
            for name in ("pipeline", "stage", "owner"):
                del self.fields[name]
        current = opportunity.custom if opportunity is not None else None
        self.fields.update(
            custom_fields.form_fields(Opportunity.custom_fields_target, current=current)
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        stage, pipeline = data.get("stage"), data.get("pipeline")
        if stage is not None and pipeline is not None and stage.pipeline_id != pipeline.pk:
            self.add_error("stage", _("Choose a stage of the chosen pipeline."))
        return data

    def stage_options(self) -> list[dict[str, Any]]:
        """The open stages per pipeline, for the page to offer only the chosen pipeline's."""
        if "stage" not in self.fields:
            return []
        return [
            {"id": s.pk, "pipeline": s.pipeline_id, "label": f"{s.name} ({s.probability}%)"}
            for s in self.fields["stage"].queryset
        ]

    def groups(self) -> list[tuple[str, list]]:
        sections = [
            (
                _("Deal"),
                ["title", "amount", "currency", "expected_close_date", "pipeline", "stage"],
            ),
            (_("People"), ["owner", "team", "contacts"]),
            (_("Source"), ["source_lead", "channel", "description"]),
        ]
        groups = [
            (label, [self[name] for name in names if name in self.fields])
            for label, names in sections
        ]
        custom = [self[name] for name in self.fields if name.startswith(custom_fields.FORM_PREFIX)]
        if custom:
            groups.append((_("More fields"), custom))
        return groups

    def facts(self) -> dict[str, Any]:
        """What the services take, from the cleaned data (pipeline/stage/owner on create)."""
        data = self.cleaned_data
        facts = {
            name: data.get(name)
            for name in (
                "title",
                "amount",
                "currency",
                "expected_close_date",
                "source_lead",
                "channel",
            )
        }
        facts["description"] = data.get("description") or ""
        facts["contacts"] = list(data.get("contacts") or [])
        facts["team"] = list(data.get("team") or [])
        return facts

    def custom_values(self, current=None) -> dict:
        return custom_fields.values_from_form(
            Opportunity.custom_fields_target, self.cleaned_data, current=current
        )


# --- Actions on one opportunity -----------------------------------------------------------------


class MoveForm(VersionedForm):
    stage = forms.ModelChoiceField(label=_("Stage"), queryset=Stage.objects.none())

    def __init__(self, *args, opportunity: Opportunity, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = Stage.objects.filter(pipeline_id=opportunity.pipeline_id)


class WinForm(VersionedForm):
    """Ids of its own: the win, lose and reopen dialogs share the opportunity's page."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "win_%s")
        super().__init__(*args, **kwargs)

    note = forms.CharField(
        label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class LoseForm(VersionedForm):
    reason = forms.ModelChoiceField(
        label=_("Lost reason"),
        queryset=LostReason.objects.none(),
        error_messages={"required": _("Choose why the opportunity was lost.")},
    )
    note = forms.CharField(
        label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "lose_%s")
        super().__init__(*args, **kwargs)
        self.fields["reason"].queryset = LostReason.objects.filter(active=True)


class ReopenForm(forms.Form):
    stage = forms.ModelChoiceField(label=_("Back to stage"), queryset=Stage.objects.none())

    def __init__(self, *args, opportunity: Opportunity, **kwargs):
        kwargs.setdefault("auto_id", "reopen_%s")
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = Stage.objects.filter(
            pipeline_id=opportunity.pipeline_id, kind=StageKind.OPEN, active=True
        )


# --- The list -----------------------------------------------------------------------------------

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class MonthField(forms.CharField):
    """``YYYY-MM`` → the first day of that month."""

    def to_python(self, value) -> date | None:  # type: ignore[override]
        value = (value or "").strip()
        if not value:
            return None
        match = MONTH.match(value)
        if match is None or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1900:
            raise ValidationError(_("Enter a month as YYYY-MM."), code="invalid")
        return date(int(match[1]), int(match[2]), 1)


class FilterForm(forms.Form):
    q = forms.CharField(max_length=100, required=False, strip=True)
    status = forms.ChoiceField(
        choices=[("", _("All statuses")), *OpportunityStatus.choices], required=False
    )
    pipeline = forms.ModelChoiceField(queryset=Pipeline.objects.all(), required=False)
    stage = forms.ModelChoiceField(queryset=Stage.objects.all(), required=False)
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    unit = UnitChoiceField(queryset=OrgUnit.objects.none(), required=False)
    close_month = MonthField(required=False)
    customer = forms.ModelChoiceField(queryset=Customer.objects.none(), required=False)

    def __init__(self, data, *, user: User, owners):
        super().__init__(data)
        self.fields["owner"].queryset = owners
        self.fields["unit"].queryset = OrgUnit.objects.visible_to(user).order_by("path")
        self.fields["customer"].queryset = Customer.objects.visible_to(user)


class BulkForm(forms.Form):
    ASSIGN, DELETE = "assign", "delete"

    action = forms.ChoiceField(
        label=_("Action"),
        choices=[(ASSIGN, _("Give to another owner")), (DELETE, _("Delete"))],
    )
    to = PersonChoiceField(label=_("New owner"), queryset=User.objects.none(), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def __init__(self, data, *, owners):
        super().__init__(data)
        self.fields["to"].queryset = owners

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("action") == self.ASSIGN:
            if not data.get("to"):
                self.add_error("to", _("Choose the new owner."))
            if not (data.get("reason") or "").strip():
                self.add_error("reason", _("Say why the opportunities change hands."))
        return data
