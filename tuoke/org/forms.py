"""Forms of the administrator pages: they parse and check input; the services decide."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tuoke.core.models import Action, Scope
from tuoke.core.scope import record_types

from . import services
from .models import OrgUnit, Role, User


class UnitChoiceField(forms.ModelChoiceField):
    """Units shown as an indented tree."""

    def label_from_instance(self, obj: OrgUnit) -> str:
        return "— " * obj.depth + obj.name


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj} ({obj.username})"


class VersionedForm(forms.Form):
    """Carries the version the user started from, so a stale save is refused."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class UnitForm(VersionedForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    parent = UnitChoiceField(
        label=_("Parent unit"),
        queryset=OrgUnit.objects.none(),
        required=False,
        empty_label=_("(top level)"),
    )
    manager = PersonChoiceField(
        label=_("Manager"), queryset=User.objects.none(), required=False, empty_label=_("(none)")
    )

    def __init__(self, *args, units=None, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = units if units is not None else OrgUnit.objects.none()
        self.fields["manager"].queryset = people if people is not None else User.objects.none()

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the unit a name."), code="required")
        return name


class UserForm(VersionedForm):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        help_text=_("Used to log in. Letters, digits and @ . + - _ only."),
    )
    display_name = forms.CharField(label=_("Display name"), max_length=50)
    email = forms.EmailField(label=_("E-mail"), required=False)
    mobile = forms.CharField(label=_("Mobile"), max_length=30, required=False)
    title = forms.CharField(label=_("Job title"), max_length=50, required=False)
    unit = UnitChoiceField(
        label=_("Unit"), queryset=OrgUnit.objects.none(), required=False, empty_label=_("(none)")
    )
    roles = forms.ModelMultipleChoiceField(
        label=_("Roles"),
        queryset=Role.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, units=None, roles=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units if units is not None else OrgUnit.objects.none()
        self.fields["roles"].queryset = roles if roles is not None else Role.objects.none()


class InviteForm(UserForm):
    password = forms.CharField(
        label=_("Initial password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to e-mail the new user a link to set a password."),
    )

    def clean_password(self) -> str:
        password = self.cleaned_data.get("password", "")
        if password:
            validate_password(password)
        return password

    def clean(self):
        data = super().clean()
        if not data.get("password") and not data.get("email") and "email" not in self.errors:
            self.add_error(
                "email",
                forms.ValidationError(
                    _("Give an e-mail address for the invitation, or set an initial password."),
                    code="required",
                ),
            )
        return data


def grant_field_name(record_type: str, action: str) -> str:
    return f"grant__{record_type}__{action}"


class RoleForm(VersionedForm):
    """Name, description, and the grant matrix: one data-scope select per record type and
    action."""

    name = forms.CharField(label=_("Name"), max_length=60)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)

    def __init__(self, *args, grants: dict[tuple[str, str], int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        grants = grants or {}
        self.matrix: list[dict] = []
        for record_type, model in record_types().items():
            cells = []
            for action in Action:
                name = grant_field_name(record_type, action.value)
                label = f"{model._meta.verbose_name_plural}: {action.label}"
                self.fields[name] = forms.TypedChoiceField(
                    label=label,
                    widget=forms.Select(attrs={"class": "form-select-sm", "aria-label": label}),
                    choices=Scope.choices,
                    coerce=int,
                    initial=grants.get((record_type, action.value), Scope.NONE),
                    required=False,
                    empty_value=Scope.NONE,
                )
                cells.append({"action": action, "name": name})
            self.matrix.append(
                {
                    "record_type": record_type,
                    "label": model._meta.verbose_name_plural,
                    "cells": cells,
                }
            )

    def matrix_rows(self):
        """Rows of the matrix with one bound field per action, for the template."""
        for row in self.matrix:
            yield {
                "record_type": row["record_type"],
                "label": row["label"],
                "cells": [
                    {"field": self[cell["name"]], "action": cell["action"]} for cell in row["cells"]
                ],
            }

    def actions(self):
        return list(Action)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the role a name."), code="required")
        return name

    def grants(self) -> dict[tuple[str, str], int]:
        return {
            (row["record_type"], cell["action"].value): self.cleaned_data[cell["name"]]
            for row in self.matrix
            for cell in row["cells"]
            if self.cleaned_data.get(cell["name"])
        }


class LoginForm(AuthenticationForm):
    """Django's login form, refusing a username after too many wrong passwords."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "locked": _(
            "Too many wrong passwords for this account. Wait %(minutes)s minutes, "
            "or ask your administrator to set a new password."
        ),
    }

    locked = False

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if username and services.login_locked(username):
            self.locked = True
            raise ValidationError(
                self.error_messages["locked"],
                code="locked",
                params={"minutes": settings.LOGIN_LOCKOUT_SECONDS // 60},
            )
        try:
            data = super().clean()
        except ValidationError:
            if username:
                services.note_failed_login(username)
            raise
        services.clear_failed_logins(username)
        return data


class HandoverForm(forms.Form):
    """Who takes over a person's customers, leads and open items, and why."""

    to = PersonChoiceField(
        label=_("Hand over to"), queryset=User.objects.none(), required=False, empty_label="—"
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def __init__(self, *args, person: User, by: User, required: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = (
            User.objects.visible_to(by).filter(is_active=True).exclude(pk=person.pk)
        ).order_by("username")
        self.fields["to"].required = required
        self.fields["reason"].required = required
        self.fields["reason"].widget.attrs["placeholder"] = _("e.g. left the company")

    def clean(self):
        data = super().clean()
        if data.get("to") and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say why the records are handed over."))
        return data
