"""Forms of the contract pages: they parse and check input; ``tuoke.contracts.services``,
``payments`` and ``invoices`` decide (numbers, statuses, totals against the contract)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tuoke.core import custom_fields
from tuoke.core.money import CURRENCIES
from tuoke.customers.models import Customer
from tuoke.org.forms import PersonChoiceField, UnitChoiceField, VersionedForm
from tuoke.org.models import OrgUnit, User
from tuoke.sales.models import Opportunity

from .models import (
    Contract,
    ContractStatus,
    Instalment,
    InvoiceKind,
    PaymentMethod,
)

# Instalments a plan takes at most (monthly over five years).
MAX_INSTALMENTS = 60
MONEY = {"max_digits": 16, "decimal_places": 2}


def _date_field(label, **kwargs) -> forms.DateField:
    return forms.DateField(
        label=label,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        **kwargs,
    )


def _money_field(label, *, required: bool = True, **kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
        **MONEY,
        **kwargs,
    )


def currency_choices(current: str | None = None) -> list[tuple[str, str]]:
    codes = list(CURRENCIES)
    if current and current not in codes:
        codes.append(current)
    return [(code, code) for code in codes]


# --- The contract form --------------------------------------------------------------------------


class ContractForm(VersionedForm):
    """A contract's terms. The customer is chosen before (``?customer=`` / ``?opportunity=``)
    and stays; the owner is chosen on create by people whose scope reaches others."""

    number = forms.CharField(
        label=_("Contract number"),
        max_length=40,
        required=False,
        help_text=_("Left empty, the next number of the contract sequence is given."),
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    opportunity = forms.ModelChoiceField(
        label=_("Opportunity"),
        queryset=Opportunity.objects.none(),
        required=False,
        empty_label=_("(none)"),
    )
    amount = _money_field(_("Amount"), min_value=Decimal("0.01"))
    currency = forms.ChoiceField(label=_("Currency"), choices=currency_choices())
    discount = forms.DecimalField(
        label=_("Discount (%)"),
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )
    signed_on = _date_field(_("Signed on"), required=False)
    starts_on = _date_field(_("Starts on"), required=False)
    ends_on = _date_field(_("Ends on"), required=False)
    owner = PersonChoiceField(
        label=_("Owner"), queryset=User.objects.none(), required=False, empty_label=_("(me)")
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    FACTS = (
        "number",
        "title",
        "opportunity",
        "amount",
        "currency",
        "discount",
        "signed_on",
        "starts_on",
        "ends_on",
        "description",
    )

    def __init__(
        self,
        *args,
        customer: Customer,
        user: User,
        contract: Contract | None = None,
        owners=None,
        editable: frozenset[str] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.contract = contract
        opportunities = Opportunity.objects.visible_to(user).filter(customer=customer)
        if contract is not None and contract.opportunity_id:
            # The linked deal stays choosable even if it moved out of the user's sight.
            opportunities = opportunities | Opportunity.objects.filter(pk=contract.opportunity_id)
        self.fields["opportunity"].queryset = opportunities.order_by("-updated_at", "-pk")
        current = contract.currency if contract is not None else self.initial.get("currency")
        self.fields["currency"].choices = currency_choices(current)
        # The running total of the payment plan compares with the amount typed.
        self.fields["amount"].widget.attrs["x-model"] = "amount"
        self.fields["amount"].widget.attrs["data-testid"] = "contract-amount"
        if contract is not None or owners is None:
            # The owner changes by handover, not by editing.
            del self.fields["owner"]
        else:
            self.fields["owner"].queryset = owners
        if editable is not None:
            # What the contract's status still lets change (services.editable_fields).
            for name in [n for n in self.FACTS if n in self.fields and n not in editable]:
                del self.fields[name]
        if editable is None or "custom" in editable:
            current_custom = contract.custom if contract is not None else None
            self.fields.update(
                custom_fields.form_fields(Contract.custom_fields_target, current=current_custom)
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("The end comes after the start."))
        return data

    def groups(self) -> list[tuple[str, list]]:
        sections = [
            (_("Contract"), ["number", "title", "opportunity", "amount", "currency", "discount"]),
            (_("Dates"), ["signed_on", "starts_on", "ends_on"]),
            (_("Owner and description"), ["owner", "description"]),
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
        """The facts of the fields on the form, as the services take them."""
        data = self.cleaned_data
        facts = {name: data.get(name) for name in self.FACTS if name in self.fields}
        if "number" in facts:
            facts["number"] = (data.get("number") or "").strip()
        if "description" in facts:
            facts["description"] = data.get("description") or ""
        return facts

    @property
    def has_custom(self) -> bool:
        return any(name.startswith(custom_fields.FORM_PREFIX) for name in self.fields)

    def custom_values(self, current=None) -> dict:
        return custom_fields.values_from_form(
            Contract.custom_fields_target, self.cleaned_data, current=current
        )


# --- The payment plan ---------------------------------------------------------------------------


class InstalmentForm(forms.Form):
    """One instalment: an amount due on a date. ``id`` names a stored one being changed."""

    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    due_on = _date_field(_("Due on"), required=False)
    amount = _money_field(_("Amount"), required=False, min_value=Decimal("0.01"))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    @property
    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {}) or {}
        return (
            not data.get("due_on")
            and data.get("amount") is None
            and not (data.get("note") or "").strip()
            and not data.get("id")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.is_blank:
            return data
        if not data.get("due_on") and "due_on" not in self.errors:
            self.add_error("due_on", _("Enter the due date."))
        if data.get("amount") is None and "amount" not in self.errors:
            self.add_error("amount", _("Enter the amount."))
        return data

    def instalment(self) -> dict[str, Any]:
        data = self.cleaned_data
        row = {
            "due_on": data["due_on"],
            "amount": data["amount"],
            "note": (data.get("note") or "").strip(),
        }
        if data.get("id"):
            row["id"] = data["id"]
        return row


class InstalmentFormSet(forms.BaseFormSet):
    def instalments(self) -> list[dict[str, Any]]:
        """The rows filled in, as the services take them (blank rows left out)."""
        taken = [f for f in self.forms if f.is_valid() and not f.is_blank]
        # Which form each entry came from, so a service's "instalments.N.amount" finds its row.
        self.entry_forms = taken
        return [f.instalment() for f in taken]

    def add_entry_error(self, index: int, field: str, error) -> bool:
        """Put a service's error about entry ``index`` on its row; False if there is none."""
        forms_taken = getattr(self, "entry_forms", [])
        if not 0 <= index < len(forms_taken) or field not in forms_taken[index].fields:
            return False
        forms_taken[index].add_error(field, error)
        return True

    def rows(self) -> list[dict[str, Any]]:
        """The rows as the page's script edits them: values typed (or stored), their errors."""
        rows = []
        for form in self.forms:
            row = {name: _text(form[name].value()) for name in ("id", "due_on", "amount", "note")}
            row["errors"] = {name: [str(e) for e in errors] for name, errors in form.errors.items()}
            rows.append(row)
        return rows


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


InstalmentFormSetFactory = forms.formset_factory(
    InstalmentForm,
    formset=InstalmentFormSet,
    extra=0,
    max_num=MAX_INSTALMENTS,
    validate_max=True,
    absolute_max=MAX_INSTALMENTS,
)


def instalment_formset(data=None, *, initial=None) -> InstalmentFormSet:
    return InstalmentFormSetFactory(data, initial=initial, prefix="instalments")


def instalment_initial(instalments) -> list[dict[str, Any]]:
    return [
        {"id": i.pk, "due_on": i.due_on, "amount": i.amount, "note": i.note} for i in instalments
    ]


class PlanForm(VersionedForm):
    """The contract's version the plan was read at (the rows are the instalment formset)."""


# --- Actions on one contract --------------------------------------------------------------------


class SubmitForm(VersionedForm):
    comment = forms.CharField(
        label=_("Comment for the approvers"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "submit_%s")
        super().__init__(*args, **kwargs)


class WithdrawForm(VersionedForm):
    comment = forms.CharField(
        label=_("Why"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "withdraw_%s")
        super().__init__(*args, **kwargs)


class CompleteForm(VersionedForm):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "complete_%s")
        super().__init__(*args, **kwargs)


class TerminateForm(VersionedForm):
    reason = forms.CharField(
        label=_("Reason for the termination"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why the contract is terminated.")},
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "terminate_%s")
        super().__init__(*args, **kwargs)


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("PDF, image, Word, Excel or ZIP."),
        error_messages={"required": _("Choose a file to upload.")},
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "attachment_%s")
        super().__init__(*args, **kwargs)


# --- Payments and invoices ----------------------------------------------------------------------

ALLOCATION_PREFIX = "allocate_"


class PaymentForm(forms.Form):
    """Money received for the contract. Finance (who confirms payments) also sees the
    over-payment box and how the money is matched to the instalments (left empty: the
    oldest due first)."""

    amount = _money_field(_("Amount received"), min_value=Decimal("0.01"))
    received_on = _date_field(_("Received on"))
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices)
    reference = forms.CharField(label=_("Bank reference"), max_length=100, required=False)
    note = forms.CharField(
        label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    over_payment = forms.BooleanField(
        label=_("Allow more than the contract amount"),
        required=False,
        help_text=_("Only when the customer really paid more (it is kept and shown as such)."),
    )

    def __init__(self, *args, finance: bool, instalments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.finance = finance
        self.instalments: list[Instalment] = list(instalments) if finance else []
        if not finance:
            del self.fields["over_payment"]
        for instalment in self.instalments:
            self.fields[f"{ALLOCATION_PREFIX}{instalment.pk}"] = _money_field(
                _("Instalment %(position)s") % {"position": instalment.position},
                required=False,
                min_value=Decimal("0.01"),
            )
        self.initial.setdefault("received_on", timezone.localdate())

    def allocation_rows(self) -> list[tuple[Instalment, forms.BoundField]]:
        return [(i, self[f"{ALLOCATION_PREFIX}{i.pk}"]) for i in self.instalments]

    def allocations(self) -> list[dict[str, Any]] | None:
        """The amounts matched to instalments as the payments service takes them; None when
        none was given (the service matches the oldest due first)."""
        chosen = [
            {"instalment": i, "amount": self.cleaned_data[f"{ALLOCATION_PREFIX}{i.pk}"]}
            for i in self.instalments
            if self.cleaned_data.get(f"{ALLOCATION_PREFIX}{i.pk}")
        ]
        return chosen or None


class InvoiceForm(forms.Form):
    """A request for an invoice; finance may issue it at once with its number and date."""

    kind = forms.ChoiceField(label=_("Invoice type"), choices=InvoiceKind.choices)
    amount = _money_field(_("Amount incl. tax"), min_value=Decimal("0.01"))
    tax_rate = forms.DecimalField(
        label=_("Tax rate (%)"),
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        initial=Decimal("13"),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )
    number = forms.CharField(
        label=_("Invoice number"),
        max_length=40,
        required=False,
        help_text=_(
            "With a number the invoice is issued at once (today unless another date is given)."
        ),
    )
    issued_on = _date_field(_("Issued on"), required=False)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args, finance: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.finance = finance
        if not finance:
            del self.fields["number"]
            del self.fields["issued_on"]


# --- The list -----------------------------------------------------------------------------------


class FilterForm(forms.Form):
    q = forms.CharField(max_length=100, required=False, strip=True)
    status = forms.ChoiceField(
        choices=[("", _("All statuses")), *ContractStatus.choices], required=False
    )
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    unit = UnitChoiceField(queryset=OrgUnit.objects.none(), required=False)
    customer = forms.ModelChoiceField(queryset=Customer.objects.none(), required=False)
    ends_after = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
    ends_before = forms.DateField(required=False, input_formats=["%Y-%m-%d"])

    def __init__(self, data, *, user: User, owners):
        super().__init__(data)
        self.fields["owner"].queryset = owners
        self.fields["unit"].queryset = OrgUnit.objects.visible_to(user).order_by("path")
        self.fields["customer"].queryset = Customer.objects.visible_to(user)


class BulkForm(forms.Form):
    """Hand the ticked contracts to another owner (a manager's action)."""

    to = PersonChoiceField(label=_("New owner"), queryset=User.objects.none())
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        error_messages={"required": _("Say why the contracts change hands.")},
    )

    def __init__(self, data, *, owners):
        super().__init__(data)
        self.fields["to"].queryset = owners
