"""Custom fields: administrators add fields to a record type (customers, contacts, leads …)
without a migration. Definitions are ``CustomField`` rows; a record keeps its values in the
``custom`` JSON of ``HasCustomFields``, keyed by the field's ``key``.

Values are stored in JSON form: text as str, number and money as a decimal string (so no
precision is lost to floats; money with two decimals), dates as "YYYY-MM-DD", multiple choice
as a list of str, yes/no as bool. An empty value is not stored.

Deleting a definition is soft (recycle bin): it disappears from forms, lists, filters and the
API, but the values stay in the records' JSON, so restoring it brings them back. For the same
reason a key stays taken (also by a definition in the recycle bin) until the definition is
purged, and a definition's target, key and kind never change after it is created.

A record type plugs in by using ``HasCustomFields`` on its model, calling ``form_fields`` /
``values_from_form`` in its forms, ``clean_values`` + ``apply_values`` in its services,
``custom_filter_q`` on its list, ``api_schema`` for its API schema and ``visible_values`` for
its API answers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django import forms
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import DecimalField, Q
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from . import services
from .errors import ErrorCode, field_error
from .models import CustomField

if TYPE_CHECKING:
    from django.http import HttpRequest
    from django.utils.functional import Promise

    from tuoke.org.models import User

Kind = CustomField.Kind

FORM_PREFIX = "custom__"
FILTER_PREFIX = "cf_"
TEXT_MAX_LENGTH = 500
LONG_TEXT_MAX_LENGTH = 5000
CHOICE_MAX_LENGTH = 100
MAX_CHOICES = 200
# Numbers beyond this are typing mistakes, and they would not survive a cast to numeric.
NUMBER_LIMIT = Decimal(10) ** 15
NUMBER_MAX_DECIMALS = 6
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")

# Record types that accept custom fields before (or besides) a model using the mixin:
# record type → label. Tests register a target here; so may an app whose model is not ready.
CUSTOM_FIELD_TARGETS: dict[str, str | Promise] = {}


class HasCustomFields(models.Model):
    """Mixin for a record type that accepts custom fields: the values live in ``custom``."""

    custom_fields_target: str = ""

    custom = models.JSONField(gettext_lazy("custom fields"), default=dict, blank=True)

    class Meta:
        abstract = True


# --- Targets -----------------------------------------------------------------------------------


def accepts_custom_fields() -> dict[str, type[models.Model]]:
    """Every concrete model using ``HasCustomFields``, by its ``custom_fields_target``."""
    found: dict[str, type[models.Model]] = {}
    for model in apps.get_models():
        if issubclass(model, HasCustomFields) and model.custom_fields_target:
            found[model.custom_fields_target] = model
    return dict(sorted(found.items()))


def targets() -> dict[str, str]:
    """Record type → its name, of every record type that accepts custom fields."""
    found = {key: str(label) for key, label in CUSTOM_FIELD_TARGETS.items()}
    for key, model in accepts_custom_fields().items():
        found[key] = str(model._meta.verbose_name_plural)
    return dict(sorted(found.items()))


def target_label(target: str) -> str:
    """The name of a record type for headings; the key itself when it is not (or no longer)
    registered."""
    return targets().get(target, target)


# --- Definitions: reads and writes -------------------------------------------------------------


def fields_for(target: str) -> list[CustomField]:
    """The alive definitions of a record type, in their order: read once per change of the
    directory (whose fingerprint counts the definitions, ``tuoke.core.directory``)."""
    from . import directory

    return list(
        directory.cached(
            f"custom_fields:{target}",
            lambda: list(
                CustomField.objects.filter(target=target).order_by("sort_order", "label", "pk")
            ),
        )
    )


def _clean_choices(kind: str, choices: Iterable[str] | None) -> list[str]:
    if kind not in CustomField.CHOICE_KINDS:
        return []
    cleaned: list[str] = []
    for choice in choices or ():
        text = str(choice).strip()
        if text and text not in cleaned:
            cleaned.append(text)
    if not cleaned:
        raise field_error("choices", _("Give at least one choice."), ErrorCode.REQUIRED)
    if len(cleaned) > MAX_CHOICES:
        raise field_error(
            "choices",
            _("Give at most %(count)s choices.") % {"count": MAX_CHOICES},
            ErrorCode.INVALID,
        )
    too_long = [c for c in cleaned if len(c) > CHOICE_MAX_LENGTH]
    if too_long:
        raise field_error(
            "choices",
            _("“%(choice)s” is longer than %(count)s characters.")
            % {"choice": too_long[0][:20] + "…", "count": CHOICE_MAX_LENGTH},
            ErrorCode.INVALID,
        )
    return cleaned


@transaction.atomic
def create_custom_field(
    *,
    target: str,
    key: str,
    label: str,
    kind: str,
    by: User | None,
    choices: Iterable[str] | None = None,
    required: bool = False,
    help_text: str = "",
    sort_order: int = 0,
    show_in_list: bool = False,
) -> CustomField:
    """Define a new field of a record type; audited."""
    if target not in targets():
        raise field_error(
            "target", _("This record type does not accept custom fields."), ErrorCode.INVALID
        )
    key = (key or "").strip()
    if kind not in Kind.values:
        raise field_error("kind", _("Choose a kind of field."), ErrorCode.INVALID)
    clash = CustomField.all_objects.filter(target=target, key=key).first()
    if clash is not None:
        if clash.deleted_at is not None:
            message = _(
                "A field with this key is in the recycle bin; its values are still stored. "
                "Restore it, or choose another key."
            )
        else:
            message = _("This record type already has a field with this key.")
        raise field_error("key", message, ErrorCode.DUPLICATE)
    return services.create_record(
        CustomField,
        by=by,
        target=target,
        key=key,
        label=(label or "").strip(),
        kind=kind,
        choices=_clean_choices(kind, choices),
        required=required,
        help_text=(help_text or "").strip(),
        sort_order=sort_order,
        show_in_list=show_in_list,
    )


IMMUTABLE = {
    "target": gettext_lazy("The record type of a field cannot change."),
    "key": gettext_lazy("The key of a field cannot change: records store their values under it."),
    "kind": gettext_lazy(
        "The kind of a field cannot change: stored values could become unreadable."
    ),
}
EDITABLE = frozenset({"label", "choices", "required", "help_text", "sort_order", "show_in_list"})


@transaction.atomic
def update_custom_field(
    field: CustomField,
    *,
    by: User | None,
    expected_version: int | None = None,
    **changes: Any,
) -> CustomField:
    """Change a definition's label, choices, required flag, help text, order or list flag.

    Target, key and kind are fixed (refused when they differ). Removing a choice is allowed:
    records that hold it keep it and show it. Raises Conflict when someone saved meanwhile.
    """
    for name, message in IMMUTABLE.items():
        if name in changes and changes.pop(name) != getattr(field, name):
            raise field_error(name, message, ErrorCode.INVALID)
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if "choices" in changes:
        changes["choices"] = _clean_choices(field.kind, changes["choices"])
    for name in ("label", "help_text"):
        if name in changes:
            changes[name] = (changes[name] or "").strip()
    return services.update_record(field, by=by, expected_version=expected_version, **changes)


def delete_custom_field(field: CustomField, *, by: User | None) -> None:
    """Move a definition to the recycle bin; the records keep their values for its return."""
    services.soft_delete(field, by=by)


def restore_custom_field(field: CustomField, *, by: User | None) -> None:
    """Bring a definition back from the recycle bin, and with it the values records kept."""
    services.restore(field, by=by)


# --- Values: validation, storage, display ------------------------------------------------------


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == ()


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError
    try:
        text = value.strip().replace(",", "") if isinstance(value, str) else str(value)
        number = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError from exc
    if not number.is_finite() or abs(number) >= NUMBER_LIMIT:
        raise ValueError
    return number


def _decimal_text(number: Decimal) -> str:
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _convert(field: CustomField, value: Any, current: Any) -> Any:
    """One value in its JSON form, or ValidationError with the reason."""
    kind = field.kind
    if kind in (Kind.TEXT, Kind.LONG_TEXT):
        if not isinstance(value, str):
            raise ValidationError(_("Enter text."), code=ErrorCode.INVALID)
        limit = TEXT_MAX_LENGTH if kind == Kind.TEXT else LONG_TEXT_MAX_LENGTH
        text = value.strip()
        if len(text) > limit:
            raise ValidationError(
                _("Enter at most %(count)s characters.") % {"count": limit},
                code=ErrorCode.INVALID,
            )
        return text
    if kind in (Kind.NUMBER, Kind.MONEY):
        try:
            number = _decimal(value)
        except ValueError:
            raise ValidationError(_("Enter a number."), code=ErrorCode.INVALID) from None
        places = 2 if kind == Kind.MONEY else NUMBER_MAX_DECIMALS
        if -number.as_tuple().exponent > places and number != number.quantize(
            Decimal(1).scaleb(-places)
        ):
            raise ValidationError(
                _("Enter at most %(count)s decimal places.") % {"count": places},
                code=ErrorCode.INVALID,
            )
        if kind == Kind.MONEY:
            return format(number.quantize(Decimal("0.01")), "f")
        return _decimal_text(number)
    if kind == Kind.DATE:
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, str) and _DATE.match(value.strip()):
            try:
                return date.fromisoformat(value.strip()).isoformat()
            except ValueError:
                pass
        raise ValidationError(
            _("Enter a valid date as YYYY-MM-DD, e.g. 2026-11-22."), code=ErrorCode.INVALID
        )
    if kind == Kind.CHOICE:
        if not isinstance(value, str) or (value not in field.choices and value != current):
            raise ValidationError(_("Choose one of the listed choices."), code=ErrorCode.INVALID)
        return value
    if kind == Kind.MULTI_CHOICE:
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise ValidationError(_("Give a list of choices."), code=ErrorCode.INVALID)
        kept = current if isinstance(current, list) else []
        chosen: list[str] = []
        for item in value:
            if not isinstance(item, str) or (item not in field.choices and item not in kept):
                raise ValidationError(
                    _("“%(choice)s” is not one of the listed choices.") % {"choice": item},
                    code=ErrorCode.INVALID,
                )
            if item not in chosen:
                chosen.append(item)
        return chosen
    if kind == Kind.BOOLEAN:
        if not isinstance(value, bool):
            raise ValidationError(_("Enter true or false."), code=ErrorCode.INVALID)
        return value
    raise ValidationError(_("This field can no longer be changed."), code=ErrorCode.INVALID)


def clean_values(
    target: str,
    data: Mapping[str, Any],
    *,
    partial: bool = False,
    fields: list[CustomField] | None = None,
    current: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Validate incoming values (from a form or the API) and return them in JSON form.

    ``data`` maps keys to values. An unknown key, a missing required value (unless
    ``partial``, as for PATCH) and a bad value are reported together as
    ``ValidationError({"custom.<key>": [...]})`` with ErrorCode codes. The result maps each
    given key (each known key unless ``partial``) to its value, None meaning "no value":
    store it with ``apply_values``. ``current`` (the record's stored values) lets a record
    keep a choice the administrator has since removed.
    """
    fields = fields_for(target) if fields is None else fields
    by_key = {f.key: f for f in fields}
    current = current or {}
    errors: dict[str, list[ValidationError]] = {}
    for key in data:
        if key not in by_key:
            errors[f"custom.{key}"] = [
                ValidationError(_("There is no such custom field."), code=ErrorCode.INVALID)
            ]
    cleaned: dict[str, Any] = {}
    for key, field in by_key.items():
        if key not in data and partial:
            continue
        value = data.get(key)
        if not _empty(value):
            try:
                value = _convert(field, value, current.get(key))
            except ValidationError as exc:
                errors[f"custom.{key}"] = [exc]
                continue
        if _empty(value):
            # Unchecked is a value ("no"); an absent yes/no is not.
            if field.required:
                errors[f"custom.{key}"] = [
                    ValidationError(_("This field is required."), code=ErrorCode.REQUIRED)
                ]
            value = None
        cleaned[key] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


def apply_values(stored: Mapping[str, Any] | None, cleaned: Mapping[str, Any]) -> dict[str, Any]:
    """The record's new ``custom`` JSON: ``cleaned`` merged into ``stored``; None removes a
    value. Values of fields not named (deleted definitions among them) stay."""
    result = dict(stored or {})
    for key, value in cleaned.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def display_value(field: CustomField, raw: Any) -> str:
    """A stored value as text for detail pages and lists, in the reader's language."""
    if _empty(raw):
        return ""
    kind = field.kind
    try:
        if kind == Kind.MONEY:
            return f"{_decimal(raw).quantize(Decimal('0.01')):,}"
        if kind == Kind.NUMBER:
            text = _decimal_text(_decimal(raw))
            sign = "-" if text.startswith("-") else ""
            whole, _dot, fraction = text.lstrip("-").partition(".")
            return f"{sign}{int(whole):,}" + (f".{fraction}" if fraction else "")
        if kind == Kind.DATE:
            return date.fromisoformat(str(raw)).isoformat()
    except (ValueError, TypeError):
        return str(raw)
    if kind == Kind.BOOLEAN:
        return _("Yes") if raw is True else _("No") if raw is False else str(raw)
    if isinstance(raw, list):
        separator = "、" if (get_language() or "").lower().startswith("zh") else ", "
        return separator.join(str(item) for item in raw)
    return str(raw)


def shown_values(
    target: str,
    stored: Mapping[str, Any] | None,
    *,
    fields: list[CustomField] | None = None,
    list_only: bool = False,
) -> list[tuple[CustomField, str]]:
    """(definition, text) of a record's values in field order, for a detail page or a list
    row (``list_only``: the fields shown in lists); fields without a value give ""."""
    fields = fields_for(target) if fields is None else fields
    stored = stored or {}
    return [
        (f, display_value(f, stored.get(f.key))) for f in fields if f.show_in_list or not list_only
    ]


# --- Forms -------------------------------------------------------------------------------------


def form_field_name(key: str) -> str:
    return f"{FORM_PREFIX}{key}"


def _form_field(field: CustomField, current: Any) -> forms.Field:
    common: dict[str, Any] = {
        "label": field.label,
        "required": field.required,
        "help_text": field.help_text,
    }
    kind = field.kind
    if kind == Kind.TEXT:
        return forms.CharField(max_length=TEXT_MAX_LENGTH, **common)
    if kind == Kind.LONG_TEXT:
        return forms.CharField(
            max_length=LONG_TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}), **common
        )
    if kind == Kind.NUMBER:
        return forms.DecimalField(
            max_value=NUMBER_LIMIT - 1,
            min_value=-NUMBER_LIMIT + 1,
            decimal_places=NUMBER_MAX_DECIMALS,
            **common,
        )
    if kind == Kind.MONEY:
        return forms.DecimalField(
            max_value=NUMBER_LIMIT - 1,
            min_value=-NUMBER_LIMIT + 1,
            decimal_places=2,
            widget=forms.NumberInput(attrs={"step": "0.01"}),
            **common,
        )
    if kind == Kind.DATE:
        return forms.DateField(
            widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
            input_formats=["%Y-%m-%d"],
            **common,
        )
    if kind == Kind.CHOICE:
        options = list(field.choices)
        if isinstance(current, str) and current and current not in options:
            options.append(current)
        return forms.ChoiceField(choices=[("", "—"), *((c, c) for c in options)], **common)
    if kind == Kind.MULTI_CHOICE:
        options = list(field.choices)
        for item in current if isinstance(current, list) else []:
            if item not in options:
                options.append(item)
        return forms.MultipleChoiceField(
            choices=[(c, c) for c in options], widget=forms.CheckboxSelectMultiple, **common
        )
    # A checkbox always has a value (unchecked is "no"), so it is never required.
    return forms.BooleanField(label=field.label, required=False, help_text=field.help_text)


def form_fields(
    target: str,
    *,
    fields: list[CustomField] | None = None,
    current: Mapping[str, Any] | None = None,
) -> dict[str, forms.Field]:
    """Django form fields named ``custom__<key>``, in field order, to add to a record's form
    (``form.fields.update(...)``). ``current``: the record's stored values, so a choice the
    administrator removed still shows for the records that hold it."""
    fields = fields_for(target) if fields is None else fields
    current = current or {}
    return {form_field_name(f.key): _form_field(f, current.get(f.key)) for f in fields}


def initial_values(
    target: str, stored: Mapping[str, Any] | None, *, fields: list[CustomField] | None = None
) -> dict[str, Any]:
    """A record's stored values as the ``initial`` of the fields from ``form_fields``."""
    fields = fields_for(target) if fields is None else fields
    stored = stored or {}
    initial: dict[str, Any] = {}
    for f in fields:
        raw = stored.get(f.key)
        if _empty(raw):
            continue
        try:
            if f.kind in (Kind.NUMBER, Kind.MONEY):
                raw = _decimal(raw)
            elif f.kind == Kind.DATE:
                raw = date.fromisoformat(str(raw))
        except (ValueError, TypeError):
            pass
        initial[form_field_name(f.key)] = raw
    return initial


def values_from_form(
    target: str,
    cleaned_data: Mapping[str, Any],
    *,
    fields: list[CustomField] | None = None,
    current: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The values of a valid form's ``custom__<key>`` fields in JSON form (None where empty),
    ready for ``apply_values``; raises ValidationError like ``clean_values``."""
    fields = fields_for(target) if fields is None else fields
    data = {
        f.key: cleaned_data.get(form_field_name(f.key))
        for f in fields
        if form_field_name(f.key) in cleaned_data
    }
    return clean_values(target, data, fields=fields, current=current, partial=True)


# --- Lists and the API -------------------------------------------------------------------------

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _number_bound(value: str | None) -> Decimal | None:
    if not value:
        return None
    try:
        return _decimal(value)
    except ValueError:
        return None


def custom_filter_q(
    target: str, params: Mapping[str, Any], *, fields: list[CustomField] | None = None
) -> Q:
    """The list filter from query parameters ``cf_<key>`` (text: contains, case-insensitive;
    choice: equals; multiple choice: holds; yes/no: 1/0 or true/false) and, for numbers,
    money and dates, ``cf_<key>_min`` / ``cf_<key>_max`` (inclusive). Bad or empty values
    are ignored, as list filters should be. Works on SQLite and PostgreSQL."""
    fields = fields_for(target) if fields is None else fields
    q = Q()
    for f in fields:
        name = f"{FILTER_PREFIX}{f.key}"
        path = f"custom__{f.key}"
        value = str(params.get(name) or "").strip()
        if f.kind in (Kind.TEXT, Kind.LONG_TEXT) and value:
            q &= Q(**{f"{path}__icontains": value[:TEXT_MAX_LENGTH]})
        elif f.kind == Kind.CHOICE and value:
            q &= Q(**{path: value})
        elif f.kind == Kind.MULTI_CHOICE and value:
            # The JSON text of the list holds the choice as a JSON string; "contains" on a JSON
            # list is not available on SQLite.
            q &= _multi_choice_q(path, value)
        elif f.kind == Kind.BOOLEAN and value.lower() in _TRUE | _FALSE:
            q &= Q(**{path: value.lower() in _TRUE})
        elif f.kind in (Kind.NUMBER, Kind.MONEY):
            number = Cast(KT(path), DecimalField(max_digits=30, decimal_places=10))
            low = _number_bound(params.get(f"{name}_min"))
            high = _number_bound(params.get(f"{name}_max"))
            if low is not None:
                q &= Q(GreaterThanOrEqual(number, low))
            if high is not None:
                q &= Q(LessThanOrEqual(number, high))
        elif f.kind == Kind.DATE:
            for suffix, lookup in (("_min", GreaterThanOrEqual), ("_max", LessThanOrEqual)):
                bound = str(params.get(f"{name}{suffix}") or "").strip()
                if _DATE.match(bound):
                    # "YYYY-MM-DD" text sorts like the dates it stands for.
                    q &= Q(lookup(KT(path), bound))
    return q


def _multi_choice_q(path: str, value: str) -> Q:
    # Django writes JSON with ASCII escapes on SQLite; PostgreSQL's jsonb keeps the characters.
    return Q(**{f"{path}__icontains": json.dumps(value)}) | Q(
        **{f"{path}__icontains": json.dumps(value, ensure_ascii=False)}
    )


def filter_queryset(
    queryset: models.QuerySet, target: str, params: Mapping[str, Any], **kwargs: Any
) -> models.QuerySet:
    """``queryset`` narrowed by the ``cf_…`` parameters (see ``custom_filter_q``)."""
    q = custom_filter_q(target, params, **kwargs)
    return queryset.filter(q) if q else queryset


def visible_values(
    target: str, custom: Mapping[str, Any] | None, *, fields: list[CustomField] | None = None
) -> dict[str, Any]:
    """The values of a record's ``custom`` JSON that belong to alive definitions, in field
    order: what an API answer shows. Values of definitions in the recycle bin stay stored
    (a restore brings them back) but are not shown, as on the pages."""
    fields = fields_for(target) if fields is None else fields
    custom = custom or {}
    return {f.key: custom[f.key] for f in fields if f.key in custom}


_REQUEST_CACHE = "_tuoke_custom_fields"


def fields_for_request(request: HttpRequest | None, target: str) -> list[CustomField]:
    """``fields_for`` read once per request, so that every row of an API list shares one
    query; without a request (a schema used outside an answer), read each time."""
    if request is None:
        return fields_for(target)
    cache: dict[str, list[CustomField]] = request.__dict__.setdefault(_REQUEST_CACHE, {})
    if target not in cache:
        cache[target] = fields_for(target)
    return cache[target]


def api_schema_properties(target: str, *, fields: list[CustomField] | None = None) -> dict:
    """JSON-schema properties of the ``custom`` object of a record type's API: key →
    {"type", "title", "description", "enum"/"format" …}. Numbers and money are decimal
    strings (a JSON number is accepted on input)."""
    fields = fields_for(target) if fields is None else fields
    properties: dict[str, dict[str, Any]] = {}
    for f in fields:
        if f.kind in (Kind.NUMBER, Kind.MONEY):
            schema: dict[str, Any] = {"type": "string", "format": "decimal"}
        elif f.kind == Kind.DATE:
            schema = {"type": "string", "format": "date"}
        elif f.kind == Kind.BOOLEAN:
            schema = {"type": "boolean"}
        elif f.kind == Kind.CHOICE:
            schema = {"type": "string", "enum": list(f.choices)}
        elif f.kind == Kind.MULTI_CHOICE:
            schema = {"type": "array", "items": {"type": "string", "enum": list(f.choices)}}
        else:
            limit = TEXT_MAX_LENGTH if f.kind == Kind.TEXT else LONG_TEXT_MAX_LENGTH
            schema = {"type": "string", "maxLength": limit}
        schema["title"] = f.label
        if f.help_text:
            schema["description"] = f.help_text
        properties[f.key] = schema
    return properties


def api_schema(target: str, *, fields: list[CustomField] | None = None) -> dict:
    """The JSON schema of a record type's ``custom`` object (properties, required keys)."""
    fields = fields_for(target) if fields is None else fields
    return {
        "type": "object",
        "properties": api_schema_properties(target, fields=fields),
        "required": [f.key for f in fields if f.required],
        "additionalProperties": False,
    }
