"""Forms of the customer pages: they parse and check what was typed (with messages on the
field); the services decide whether the customer may be saved."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tuoke.core import custom_fields
from tuoke.org.models import User

from . import matching
from .models import (
    Collaborator,
    Contact,
    Customer,
    FundingStage,
    LifecycleStatus,
    Nature,
    Size,
    Tag,
)

# What a legal name ends with; a quick-create name ending so is kept as the legal name.
_LEGAL_ENDING = re.compile(
    r"(公司|集团|合伙企业|个人独资企业|工作室|厂|商行|经营部|门市部|"
    r"\b(co|ltd|limited|inc|corp|corporation|llc|gmbh|ag|plc|pte|company)\.?)\s*$",
    re.IGNORECASE,
)

# Inputs the while-typing duplicate check reads (see the "data-dup" attribute).
DUPLICATE_WATCHED = (
    "name",
    "legal_name",
    "short_name",
    "credit_code",
    "contact_mobile",
    "contact_phone",
    "contact_email",
)


def looks_like_legal_name(name: str) -> bool:
    return bool(_LEGAL_ENDING.search(name.strip()))


def _choices(choices) -> list[tuple[str, Any]]:
    return [("", "—"), *choices]


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj} ({obj.username})"


def watch_for_duplicates(form: forms.Form, check_url: str) -> None:
    """Make the form's name, credit code, phone and e-mail inputs ask the duplicate check
    (htmx) while the user types; the answer goes to ``#duplicate-result``."""
    for name in DUPLICATE_WATCHED:
        if name in form.fields:
            form.fields[name].widget.attrs.update(
                {
                    "data-dup": "",
                    "hx-post": check_url,
                    "hx-trigger": "input changed delay:400ms, change",
                    "hx-target": "#duplicate-result",
                    "hx-include": "[data-dup]",
                    "hx-sync": "closest form:queue last",
                }
            )


def _phone(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        matching.normalize_phone(value)
    except ValidationError as exc:
        raise forms.ValidationError(exc.messages, code="invalid") from None
    return value


class ContactFieldsMixin:
    """Mobile and landline are checked as typed; the service stores them normalised."""

    def clean_mobile(self) -> str:
        return _phone(self.cleaned_data.get("mobile", ""))

    def clean_phone(self) -> str:
        return _phone(self.cleaned_data.get("phone", ""))


class CustomerForm(forms.Form):
    """The customer's facts, tags and custom fields; on creation also its first contact."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    short_name = forms.CharField(
        label=_("Short name"),
        max_length=100,
        required=False,
        help_text=_("What your team calls it, e.g. 腾达精密."),
    )
    legal_name = forms.CharField(
        label=_("Legal name"),
        max_length=200,
        required=False,
        help_text=_("As registered, e.g. 深圳市腾达精密科技有限公司; may stay empty until known."),
    )
    credit_code = forms.CharField(
        label=_("Unified social credit code"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    nature = forms.ChoiceField(label=_("Nature"), choices=_choices(Nature.choices), required=False)
    size = forms.ChoiceField(label=_("Size"), choices=_choices(Size.choices), required=False)
    industry = forms.CharField(label=_("Industry"), max_length=50, required=False)
    province = forms.CharField(
        label=_("Province"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"list": "provinces"}),
    )
    city = forms.CharField(label=_("City"), max_length=30, required=False)
    funding_stage = forms.ChoiceField(
        label=_("Funding stage"), choices=_choices(FundingStage.choices), required=False
    )
    website = forms.URLField(
        label=_("Website"), max_length=200, required=False, assume_scheme="https"
    )
    country = forms.CharField(
        label=_("Country"),
        min_length=2,
        max_length=2,
        initial="CN",
        help_text=_("Two letters (ISO 3166), e.g. CN, DE, US."),
    )
    currency = forms.CharField(
        label=_("Currency"),
        min_length=3,
        max_length=3,
        initial="CNY",
        help_text=_("Three letters (ISO 4217), e.g. CNY, EUR, USD."),
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    tags = forms.ModelMultipleChoiceField(
        label=_("Tags"),
        queryset=Tag.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    allow_similar = forms.BooleanField(
        label=_("I checked: it is a different company"), required=False
    )

    CONTACT_FIELDS = (
        "contact_name",
        "contact_mobile",
        "contact_phone",
        "contact_email",
        "contact_title",
        "contact_is_key_person",
    )

    def __init__(
        self,
        *args,
        customer: Customer | None = None,
        owners=None,
        **kwargs,
    ):
        self.customer = customer
        self.custom_definitions = custom_fields.fields_for(Customer.custom_fields_target)
        if customer is not None:
            kwargs.setdefault("initial", {}).update(self.initial_for(customer))
        super().__init__(*args, **kwargs)
        self.fields["tags"].queryset = Tag.objects.order_by("name")
        if owners is not None and customer is None:
            self.fields["owner"] = PersonChoiceField(
                label=_("Owner"), queryset=owners, required=False, empty_label=_("(me)")
            )
        if customer is None:
            self.fields["contact_name"] = forms.CharField(
                label=_("Contact name"), max_length=50, required=False
            )
            self.fields["contact_mobile"] = forms.CharField(
                label=_("Mobile"),
                max_length=30,
                required=False,
                help_text=_("+86 unless another country code is given."),
                widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            )
            self.fields["contact_phone"] = forms.CharField(
                label=_("Landline"),
                max_length=30,
                required=False,
                help_text=_("With area code, e.g. 0755-86001234."),
                widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            )
            self.fields["contact_email"] = forms.EmailField(label=_("E-mail"), required=False)
            self.fields["contact_title"] = forms.CharField(
                label=_("Job title"), max_length=50, required=False
            )
            self.fields["contact_is_key_person"] = forms.BooleanField(
                label=_("Key person (KP)"), required=False
            )
        self.fields.update(
            custom_fields.form_fields(
                Customer.custom_fields_target,
                fields=self.custom_definitions,
                current=customer.custom if customer is not None else None,
            )
        )

    @staticmethod
    def initial_for(customer: Customer) -> dict[str, Any]:
        initial = {
            name: getattr(customer, name)
            for name in (
                "short_name",
                "legal_name",
                "credit_code",
                "nature",
                "size",
                "industry",
                "province",
                "city",
                "funding_stage",
                "website",
                "country",
                "currency",
                "note",
                "version",
            )
        }
        initial["tags"] = [t.pk for t in customer.tags.all()]
        initial.update(custom_fields.initial_values(Customer.custom_fields_target, customer.custom))
        return initial

    # Groups of fields for the template, in the order shown: the duplicate panel follows
    # the fields that identify the company.
    def identity_fields(self):
        return [self[n] for n in ("short_name", "legal_name", "credit_code")]

    def fact_fields(self):
        names = ["nature", "size", "industry", "province", "city", "funding_stage", "website"]
        names += ["country", "currency"]
        if "owner" in self.fields:
            names.append("owner")
        return [self[n] for n in names]

    def contact_fields(self):
        return [self[n] for n in self.CONTACT_FIELDS if n in self.fields]

    def custom_field_fields(self):
        return [self[n] for n in self.fields if n.startswith(custom_fields.FORM_PREFIX)]

    def clean_credit_code(self) -> str:
        code = self.cleaned_data.get("credit_code", "").strip()
        if not code:
            return ""
        try:
            return matching.validate_credit_code(code)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages, code="invalid") from None

    def clean_contact_mobile(self) -> str:
        return _phone(self.cleaned_data.get("contact_mobile", ""))

    def clean_contact_phone(self) -> str:
        return _phone(self.cleaned_data.get("contact_phone", ""))

    def clean_country(self) -> str:
        return self.cleaned_data["country"].strip().upper()

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()

    def clean(self):
        data = super().clean()
        named = data.get("legal_name", "").strip() or data.get("short_name", "").strip()
        if not named and "short_name" not in self.errors and "legal_name" not in self.errors:
            self.add_error("short_name", _("Give the customer a short name or its legal name."))
        contact_given = any(
            data.get(n) for n in ("contact_mobile", "contact_phone", "contact_email")
        )
        if contact_given and not data.get("contact_name", "").strip():
            self.add_error("contact_name", _("Give the contact's name."))
        return data

    def facts(self) -> dict[str, Any]:
        """The cleaned facts as keyword arguments of the services."""
        data = self.cleaned_data
        facts = {
            name: data[name]
            for name in (
                "short_name",
                "legal_name",
                "credit_code",
                "nature",
                "size",
                "industry",
                "province",
                "city",
                "funding_stage",
                "website",
                "country",
                "currency",
                "note",
            )
        }
        facts["custom"] = {
            f.key: data.get(custom_fields.form_field_name(f.key))
            for f in self.custom_definitions
            if custom_fields.form_field_name(f.key) in data
        }
        return facts

    def contacts(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        if not data.get("contact_name", "").strip():
            return []
        return [
            {
                "name": data["contact_name"],
                "mobile": data.get("contact_mobile", ""),
                "phone": data.get("contact_phone", ""),
                "email": data.get("contact_email", ""),
                "title": data.get("contact_title", ""),
                "is_key_person": data.get("contact_is_key_person", False),
            }
        ]


class QuickCustomerForm(forms.Form):
    """Creating a customer on a phone: a name, a contact and his mobile."""

    name = forms.CharField(
        label=_("Company"),
        max_length=200,
        help_text=_("Short name or legal name."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    contact_name = forms.CharField(label=_("Contact name"), max_length=50, required=False)
    contact_mobile = forms.CharField(
        label=_("Mobile"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    allow_similar = forms.BooleanField(
        label=_("I checked: it is a different company"), required=False
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the customer a name."), code="required")
        return name

    def clean_contact_mobile(self) -> str:
        return _phone(self.cleaned_data.get("contact_mobile", ""))

    def clean(self):
        data = super().clean()
        if data.get("contact_mobile") and not data.get("contact_name", "").strip():
            self.add_error("contact_name", _("Give the contact's name."))
        return data

    def facts(self) -> dict[str, Any]:
        name = self.cleaned_data["name"]
        if looks_like_legal_name(name):
            return {"legal_name": name[:200]}
        return {"short_name": name[:100]}

    def contacts(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        if not data.get("contact_name", "").strip():
            return []
        return [{"name": data["contact_name"], "mobile": data.get("contact_mobile", "")}]


class ContactForm(ContactFieldsMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label=_("Name"), max_length=50)
    title = forms.CharField(label=_("Job title"), max_length=50, required=False)
    mobile = forms.CharField(
        label=_("Mobile"),
        max_length=30,
        required=False,
        help_text=_("+86 unless another country code is given."),
        widget=forms.TextInput(attrs={"type": "tel"}),
    )
    phone = forms.CharField(
        label=_("Landline"),
        max_length=30,
        required=False,
        help_text=_("With area code, e.g. 0755-86001234."),
        widget=forms.TextInput(attrs={"type": "tel"}),
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    is_key_person = forms.BooleanField(label=_("Key person (KP)"), required=False)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, contact: Contact | None = None, **kwargs):
        self.custom_definitions = custom_fields.fields_for(Contact.custom_fields_target)
        if contact is not None:
            initial = kwargs.setdefault("initial", {})
            for name in ("name", "title", "email", "is_key_person", "note", "version"):
                initial[name] = getattr(contact, name)
            initial["mobile"] = matching.format_phone(contact.mobile) if contact.mobile else ""
            initial["phone"] = matching.format_phone(contact.phone) if contact.phone else ""
            initial.update(
                custom_fields.initial_values(Contact.custom_fields_target, contact.custom)
            )
        super().__init__(*args, **kwargs)
        self.fields.update(
            custom_fields.form_fields(
                Contact.custom_fields_target,
                fields=self.custom_definitions,
                current=contact.custom if contact is not None else None,
            )
        )

    def facts(self) -> dict[str, Any]:
        data = self.cleaned_data
        facts = {n: data[n] for n in ("name", "title", "mobile", "phone", "email", "is_key_person")}
        facts["note"] = data["note"]
        return facts

    def custom_values(self, current=None) -> dict[str, Any]:
        return custom_fields.values_from_form(
            Contact.custom_fields_target,
            self.cleaned_data,
            fields=self.custom_definitions,
            current=current,
        )


class LifecycleOverrideForm(forms.Form):
    to_status = forms.ChoiceField(label=_("New status"), choices=LifecycleStatus.choices)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept in the lifecycle history and the audit trail."),
        error_messages={"required": _("Say why the status is set by hand.")},
    )


class CollaboratorForm(forms.Form):
    user = PersonChoiceField(label=_("Colleague"), queryset=User.objects.none())
    access = forms.ChoiceField(label=_("Access"), choices=Collaborator.Access.choices)

    def __init__(self, *args, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = people if people is not None else User.objects.none()


class TagsForm(forms.Form):
    tags = forms.ModelMultipleChoiceField(
        label=_("Tags"),
        queryset=Tag.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    new_tag = forms.CharField(label=_("New tag"), max_length=30, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tags"].queryset = Tag.objects.order_by("name")


class AccessRequestForm(forms.Form):
    access = forms.ChoiceField(
        label=_("Access"),
        choices=Collaborator.Access.choices,
        initial=Collaborator.Access.READ,
        widget=forms.RadioSelect,
    )
    message = forms.CharField(
        label=_("Message to the owner"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why you need it, e.g. the contact called you about a new project."),
    )


class AccessDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("grant", _("Grant")), ("decline", _("Decline"))], widget=forms.HiddenInput
    )
    access = forms.ChoiceField(
        label=_("Access"), choices=Collaborator.Access.choices, required=False
    )
    note = forms.CharField(label=_("Answer"), max_length=500, required=False)


class MergeForm(forms.Form):
    other = forms.IntegerField(widget=forms.HiddenInput)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)
