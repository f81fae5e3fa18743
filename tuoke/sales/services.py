"""Every write on opportunities: creating and editing them (lines, contacts, team), moving
them through their pipeline's stages with the stages' required fields, winning, losing and
reopening them, deleting and restoring, handing them over, and the activity that keeps them
from stalling.

Each stay in a stage is a StageVisit (the history the funnel reads); entering a stage that
marks intent moves the customer's lifecycle on. Pipelines, stages, lost reasons and products
are configured in ``tuoke.sales.config``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from tuoke.core import audit, custom_fields
from tuoke.core import services as core_services
from tuoke.core.errors import Conflict, ErrorCode, field_error
from tuoke.core.models import Action, AuditEntry, CustomField
from tuoke.core.scope import require
from tuoke.customers.models import Contact, Customer, LifecycleStatus

from .models import (
    REQUIRABLE_FIELDS,
    LostReason,
    Opportunity,
    OpportunityLine,
    OpportunityStatus,
    Pipeline,
    Product,
    Stage,
    StageKind,
    StageVisit,
)

if TYPE_CHECKING:
    from tuoke.org.models import User


class SalesError(StrEnum):
    """Error codes of opportunities, beside the common ``ErrorCode``."""

    CLOSED = "closed"  # the opportunity is won or lost
    NOT_CLOSED = "not_closed"  # reopening an open one
    END_STAGE = "end_stage"  # won/lost stages are reached by win and lose
    OTHER_PIPELINE = "other_pipeline"
    INACTIVE = "inactive"  # an archived stage, pipeline or lost reason


def _error(field: str, message, code: SalesError | ErrorCode) -> ValidationError:
    return field_error(field, message, cast(ErrorCode, code))


stage_changed = Signal()
"""Sent after an opportunity entered another stage (a move, a win, a loss, a reopening), with
``opportunity``, ``from_stage``, ``to_stage`` and ``by``; inside the transaction (receivers
defer their side effects with ``transaction.on_commit``)."""

# Facts update_opportunity changes; the stage and status move only through the services below.
UPDATABLE = frozenset(
    {
        "customer",
        "title",
        "owner",
        "amount",
        "currency",
        "expected_close_date",
        "source_lead",
        "channel",
        "description",
        "custom",
    }
)
RELATIONS = ("contacts", "team", "lines")
TITLE_MAX = 200
NOTE_MAX = 2000
DESCRIPTION_MAX = 5000


# --- Pipelines and stages as opportunities meet them --------------------------------------------


def default_pipeline() -> Pipeline | None:
    """The pipeline new opportunities go into unless another is chosen."""
    return Pipeline.objects.filter(active=True).order_by("-is_default", "sort_order", "pk").first()


def first_stage(pipeline: Pipeline) -> Stage | None:
    """Where an opportunity starts: the pipeline's first active open stage."""
    return (
        Stage.objects.filter(pipeline=pipeline, kind=StageKind.OPEN, active=True)
        .order_by("sort_order", "pk")
        .first()
    )


def end_stage(pipeline: Pipeline, kind: str) -> Stage:
    """The pipeline's won (or lost) stage."""
    found = (
        Stage.objects.filter(pipeline=pipeline, kind=kind)
        .order_by("-active", "sort_order", "pk")
        .first()
    )
    if found is None:
        message = (
            _("The pipeline “%(pipeline)s” has no won stage.")
            if kind == StageKind.WON
            else _("The pipeline “%(pipeline)s” has no lost stage.")
        )
        raise _error("stage", message % {"pipeline": pipeline.name}, ErrorCode.INVALID)
    return found


def _check_stage(pipeline: Pipeline, stage: Stage | None) -> Stage:
    if stage is None:
        raise _error("stage", _("Choose a stage."), ErrorCode.REQUIRED)
    if stage.pipeline_id != pipeline.pk:
        raise _error(
            "stage",
            _("“%(stage)s” is not a stage of the pipeline “%(pipeline)s”.")
            % {"stage": stage.name, "pipeline": pipeline.name},
            SalesError.OTHER_PIPELINE,
        )
    if not stage.active or stage.deleted_at is not None:
        raise _error(
            "stage",
            _("The stage “%(stage)s” is archived.") % {"stage": stage.name},
            SalesError.INACTIVE,
        )
    return stage


def _check_open_stage(pipeline: Pipeline, stage: Stage | None) -> Stage:
    stage = _check_stage(pipeline, stage)
    if stage.kind != StageKind.OPEN:
        raise _error(
            "stage",
            _("Win or lose the opportunity to close it: “%(stage)s” is an end stage.")
            % {"stage": stage.name},
            SalesError.END_STAGE,
        )
    return stage


# --- Required fields of a stage -----------------------------------------------------------------


def _missing_message(key: str, label: str, stage: Stage) -> str:
    names = {"stage": stage.name, "field": label}
    if key == "amount":
        return _("Enter the amount before moving to “%(stage)s”.") % names
    if key == "expected_close_date":
        return _("Enter the expected close date before moving to “%(stage)s”.") % names
    if key == "contacts":
        return _("Choose the contacts involved before moving to “%(stage)s”.") % names
    if key == "lines":
        return _("Add the products before moving to “%(stage)s”.") % names
    if key == "description":
        return _("Describe the opportunity before moving to “%(stage)s”.") % names
    return _("Fill in “%(field)s” before moving to “%(stage)s”.") % names


def error_field(key: str) -> str:
    """The input a required-field key names in errors: "custom:budget" → "custom.budget"."""
    return f"custom.{key[7:]}" if key.startswith("custom:") else key


def _missing(
    stage: Stage,
    *,
    amount: Decimal | None,
    expected_close_date: date | None,
    description: str,
    custom: dict[str, Any] | None,
    has_contacts: bool,
    has_lines: bool,
) -> list[tuple[str, str]]:
    required = [k for k in (stage.required_fields or []) if isinstance(k, str)]
    if not required:
        return []
    custom = custom or {}
    custom_keys = [k[7:] for k in required if k.startswith("custom:")]
    labels = (
        dict(
            CustomField.objects.filter(
                target=Opportunity.custom_fields_target, key__in=custom_keys
            ).values_list("key", "label")
        )
        if custom_keys
        else {}
    )
    filled = {
        "amount": amount is not None,
        "expected_close_date": expected_close_date is not None,
        "description": bool((description or "").strip()),
        "contacts": has_contacts,
        "lines": has_lines,
    }
    missing = []
    for key in required:
        if key.startswith("custom:"):
            name = key[7:]
            if name not in labels:
                continue  # a field removed since the stage required it
            value = custom.get(name)
            if value is None or value == "" or value == []:
                missing.append((key, str(labels[name])))
        elif key in REQUIRABLE_FIELDS and not filled[key]:
            missing.append((key, str(REQUIRABLE_FIELDS[key])))
    return missing


def required_missing(opp: Opportunity, stage: Stage) -> list[tuple[str, str]]:
    """The fields ``stage`` requires that ``opp`` lacks, as (key, label): the key as the stage
    names it ("amount", "custom:budget"), the label in the reader's language."""
    saved = opp.pk is not None
    return _missing(
        stage,
        amount=opp.amount,
        expected_close_date=opp.expected_close_date,
        description=opp.description,
        custom=opp.custom,
        has_contacts=saved and opp.contacts.exists(),
        has_lines=saved and opp.lines.exists(),
    )


def _refuse_missing(stage: Stage, missing: list[tuple[str, str]]) -> None:
    if missing:
        raise ValidationError(
            {
                error_field(key): [
                    ValidationError(
                        _missing_message(key, label, stage), code=str(ErrorCode.REQUIRED)
                    )
                ]
                for key, label in missing
            }
        )


# --- Facts --------------------------------------------------------------------------------------


def _decimal(value: Any, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).replace(",", ""))
    except (InvalidOperation, ValueError):
        raise _error(field, _("Enter a number."), ErrorCode.INVALID) from None
    if not number.is_finite():
        raise _error(field, _("Enter a number."), ErrorCode.INVALID)
    return number


def _amount(value: Any) -> Decimal | None:
    number = _decimal(value, "amount")
    if number is not None and number < 0:
        raise _error("amount", _("The amount cannot be negative."), ErrorCode.INVALID)
    return number.quantize(Decimal("0.01")) if number is not None else None


def _title(value: Any) -> str:
    title = (value or "").strip() if isinstance(value, str) else ""
    if not title:
        raise _error("title", _("Give the opportunity a title."), ErrorCode.REQUIRED)
    if len(title) > TITLE_MAX:
        raise _error(
            "title",
            _("Ensure this value has at most %(limit)s characters.") % {"limit": TITLE_MAX},
            ErrorCode.INVALID,
        )
    return title


def _text(value: Any, field: str, limit: int) -> str:
    text = (value or "").strip() if isinstance(value, str) else ""
    if len(text) > limit:
        raise _error(
            field,
            _("Ensure this value has at most %(limit)s characters.") % {"limit": limit},
            ErrorCode.INVALID,
        )
    return text


def _currency(value: Any) -> str:
    code = (value or "").strip().upper() if isinstance(value, str) else ""
    if len(code) != 3 or not code.isalpha() or not code.isascii():
        raise _error(
            "currency", _("Give a three-letter currency code, such as CNY."), ErrorCode.INVALID
        )
    return code


def _check_customer(customer: Customer | None) -> Customer:
    if customer is None:
        raise _error("customer", _("Choose a customer."), ErrorCode.REQUIRED)
    if customer.deleted_at is not None:
        raise _error("customer", _("This customer is in the recycle bin."), ErrorCode.INVALID)
    return customer


def _contacts(values: Iterable[Contact | int], customer: Customer) -> list[Contact]:
    values = list(values)
    ids = [v for v in values if not isinstance(v, Contact)]
    found = {c.pk: c for c in Contact.objects.filter(pk__in=ids)} if ids else {}
    contacts: list[Contact] = []
    for value in values:
        contact = value if isinstance(value, Contact) else found.get(value)
        if contact is None or contact.deleted_at is not None:
            raise _error("contacts", _("Choose existing contacts."), ErrorCode.INVALID)
        if contact.customer_id != customer.pk:
            raise _error(
                "contacts",
                _("“%(contact)s” is not a contact of %(customer)s.")
                % {"contact": contact.name, "customer": customer},
                ErrorCode.INVALID,
            )
        if contact not in contacts:
            contacts.append(contact)
    return contacts


def _team(values: Iterable[Any], owner_id: int | None) -> list[User]:
    values = list(values)
    users = get_user_model()
    ids = [v for v in values if not isinstance(v, users)]
    found = {u.pk: u for u in users.objects.filter(pk__in=ids)} if ids else {}
    team: list[User] = []
    for value in values:
        person = value if isinstance(value, users) else found.get(value)
        if person is None or not person.is_active:
            raise _error("team", _("Choose active users."), ErrorCode.INVALID)
        if person.pk != owner_id and person not in team:
            team.append(person)
    return team


def _lines(values: Iterable[dict[str, Any]]) -> list[OpportunityLine]:
    """Unsaved lines from dicts of product (a Product or its id), name, quantity, unit_price;
    a product fills the name and the price that are not given."""
    rows = list(values)
    product_ids = [
        r.get("product") for r in rows if r.get("product") and not isinstance(r["product"], Product)
    ] + [r["product_id"] for r in rows if r.get("product_id")]
    products = {p.pk: p for p in Product.all_objects.filter(pk__in=product_ids)}
    lines = []
    for number, row in enumerate(rows, start=1):
        where = {"line": number}
        product = row.get("product") or row.get("product_id")
        if product is not None and not isinstance(product, Product):
            product = products.get(product)
            if product is None:
                raise _error(
                    "lines",
                    _("Line %(line)s: choose an existing product.") % where,
                    ErrorCode.INVALID,
                )
        name = (row.get("name") or "").strip() or (product.name if product else "")
        if not name:
            raise _error("lines", _("Line %(line)s: name the item.") % where, ErrorCode.REQUIRED)
        try:
            quantity = _decimal(row.get("quantity", 1), "lines")
            price = _decimal(row.get("unit_price"), "lines")
        except ValidationError:
            raise _error(
                "lines", _("Line %(line)s: enter numbers.") % where, ErrorCode.INVALID
            ) from None
        if quantity is None or quantity <= 0:
            raise _error(
                "lines",
                _("Line %(line)s: the quantity must be above zero.") % where,
                ErrorCode.INVALID,
            )
        if price is None:
            if product is None:
                raise _error(
                    "lines", _("Line %(line)s: enter the unit price.") % where, ErrorCode.REQUIRED
                )
            price = product.price
        if price < 0:
            raise _error(
                "lines",
                _("Line %(line)s: the unit price cannot be negative.") % where,
                ErrorCode.INVALID,
            )
        line = OpportunityLine(
            product=product,
            name=name[:100],
            quantity=quantity.quantize(Decimal("0.01")),
            unit_price=price.quantize(Decimal("0.01")),
            sort_order=number * 10,
        )
        try:
            line.full_clean(exclude=["opportunity"])
        except ValidationError:
            raise _error(
                "lines", _("Line %(line)s: the number is too large.") % where, ErrorCode.INVALID
            ) from None
        lines.append(line)
    return lines


def _lines_total(lines: list[OpportunityLine]) -> Decimal:
    return sum((line.amount for line in lines), Decimal("0.00"))


def _lines_text(lines: Iterable[OpportunityLine]) -> str:
    return "; ".join(f"{line.name} × {line.quantity:g} @ {line.unit_price}" for line in lines)


def _names(records: Iterable[Any]) -> str:
    return ", ".join(sorted(str(r) for r in records))


def _relation_label(name: str) -> str:
    if name == "lines":
        return str(REQUIRABLE_FIELDS["lines"])
    field = Opportunity._meta.get_field(name)
    assert isinstance(field, models.Field)
    return str(field.verbose_name)


def _clean_custom(value: Any, current: dict[str, Any] | None, *, partial: bool) -> dict[str, Any]:
    cleaned = custom_fields.clean_values(
        Opportunity.custom_fields_target, value or {}, partial=partial, current=current
    )
    return custom_fields.apply_values(current, cleaned)


# --- Creating and editing -----------------------------------------------------------------------


@transaction.atomic
def create_opportunity(
    *,
    customer: Customer,
    title: str,
    by: User | None,
    owner: User | None = None,
    pipeline: Pipeline | None = None,
    stage: Stage | None = None,
    amount: Decimal | None = None,
    currency: str = "CNY",
    expected_close_date: date | None = None,
    contacts: Iterable[Contact | int] = (),
    team: Iterable[Any] = (),
    lines: Iterable[dict[str, Any]] = (),
    source_lead: Any = None,
    channel: Any = None,
    description: str = "",
    custom: dict[str, Any] | None = None,
) -> Opportunity:
    """Open an opportunity with a customer in a pipeline (the default one) at a stage (its
    first open stage), provided the stage's required fields are there. The amount is the sum
    of the lines when lines are given without one."""
    customer = _check_customer(customer)
    owner = owner or by
    if pipeline is None:
        pipeline = stage.pipeline if stage is not None else default_pipeline()
    if pipeline is None:
        raise _error(
            "pipeline",
            _("There is no pipeline yet: an administrator sets one up first."),
            ErrorCode.REQUIRED,
        )
    if not pipeline.active or pipeline.deleted_at is not None:
        raise _error(
            "pipeline",
            _("The pipeline “%(pipeline)s” is archived.") % {"pipeline": pipeline.name},
            SalesError.INACTIVE,
        )
    if stage is None:
        stage = first_stage(pipeline)
        if stage is None:
            raise _error(
                "stage",
                _("The pipeline “%(pipeline)s” has no open stage.") % {"pipeline": pipeline.name},
                ErrorCode.INVALID,
            )
    stage = _check_open_stage(pipeline, stage)
    chosen_contacts = _contacts(contacts, customer)
    chosen_team = _team(team, owner.pk if owner is not None else None)
    new_lines = _lines(lines)
    amount = _amount(amount)
    if amount is None and new_lines:
        amount = _lines_total(new_lines)
    description = _text(description, "description", DESCRIPTION_MAX)
    values = _clean_custom(custom, {}, partial=False)
    _refuse_missing(
        stage,
        _missing(
            stage,
            amount=amount,
            expected_close_date=expected_close_date,
            description=description,
            custom=values,
            has_contacts=bool(chosen_contacts),
            has_lines=bool(new_lines),
        ),
    )
    if channel is None and source_lead is not None:
        channel = source_lead.channel
    now = timezone.now()
    opp = core_services.create_record(
        Opportunity,
        by=by,
        owner=owner,
        customer=customer,
        title=_title(title),
        amount=amount,
        currency=_currency(currency),
        expected_close_date=expected_close_date,
        pipeline=pipeline,
        stage=stage,
        status=OpportunityStatus.OPEN,
        stage_entered_at=now,
        last_activity_at=now,
        source_lead=source_lead,
        channel=channel,
        description=description,
        custom=values,
    )
    if chosen_contacts:
        opp.contacts.set(chosen_contacts)
    if chosen_team:
        opp.team.set(chosen_team)
    for line in new_lines:
        line.opportunity = opp
    OpportunityLine.objects.bulk_create(new_lines)
    _open_visit(opp, stage, at=now, by=by)
    _after_entering(opp, None, stage, by=by)
    return opp


@transaction.atomic
def update_opportunity(
    opp: Opportunity, *, by: User | None, version: int | None = None, **facts: Any
) -> Opportunity:
    """Change an opportunity's facts; ``contacts``, ``team`` and ``lines`` (replacing all
    lines) when given. The stage and status move through move_stage, win, lose and reopen.
    A field the current stage requires cannot be emptied. Raises Conflict when ``version``
    is not the stored one."""
    for name in facts:
        if name in ("stage", "status", "pipeline"):
            raise _error(
                name,
                _("This is changed by moving the stage, winning or losing, not by editing."),
                ErrorCode.INVALID,
            )
        if name not in UPDATABLE and name not in RELATIONS:
            raise _error(name, _("This field cannot be changed."), ErrorCode.INVALID)
    if version is not None and version != opp.version:
        raise Conflict()
    contacts = facts.pop("contacts", None)
    team = facts.pop("team", None)
    lines = facts.pop("lines", None)
    if "customer" in facts:
        facts["customer"] = _check_customer(facts["customer"])
    customer = facts.get("customer", opp.customer)
    if "title" in facts:
        facts["title"] = _title(facts["title"])
    if "amount" in facts:
        facts["amount"] = _amount(facts["amount"])
    if "currency" in facts:
        facts["currency"] = _currency(facts["currency"])
    if "description" in facts:
        facts["description"] = _text(facts["description"], "description", DESCRIPTION_MAX)
    if "owner" in facts and facts["owner"] is None:
        raise _error("owner", _("Choose an owner."), ErrorCode.REQUIRED)
    if "custom" in facts:
        facts["custom"] = _clean_custom(facts["custom"], opp.custom, partial=True)
    if contacts is not None:
        new_contacts = _contacts(contacts, customer)
    else:
        new_contacts = list(opp.contacts.all())
        if customer.pk != opp.customer_id:
            # Contacts of the former customer do not follow it.
            _contacts(new_contacts, customer)
    owner_id = facts["owner"].pk if "owner" in facts else opp.owner_id
    new_team = _team(team, owner_id) if team is not None else None
    new_lines = _lines(lines) if lines is not None else None
    if new_lines and "amount" not in facts:
        facts["amount"] = _lines_total(new_lines)
    # What the current stage requires stays filled.
    missing = _missing(
        opp.stage,
        amount=facts.get("amount", opp.amount),
        expected_close_date=facts.get("expected_close_date", opp.expected_close_date),
        description=facts.get("description", opp.description),
        custom=facts.get("custom", opp.custom),
        has_contacts=bool(new_contacts),
        has_lines=bool(new_lines) if new_lines is not None else opp.lines.exists(),
    )
    touched = set(facts) | {
        n for n, v in (("contacts", contacts), ("lines", lines)) if v is not None
    }
    emptied = [(k, label) for k, label in missing if (error_field(k).split(".")[0] in touched)]
    _refuse_missing(opp.stage, emptied)
    opp = core_services.update_record(opp, by=by, expected_version=version, **facts)
    changes = _set_relations(
        opp, contacts=new_contacts if contacts is not None else None, team=new_team, lines=new_lines
    )
    if changes:
        _bump(opp, by=by)
        audit.record(opp, kind=AuditEntry.Kind.UPDATE, actor=by, changes=changes)
    return opp


def _set_relations(
    opp: Opportunity,
    *,
    contacts: list[Contact] | None,
    team: list[User] | None,
    lines: list[OpportunityLine] | None,
) -> list[dict[str, str]]:
    """Replace what is given; the audit entries of what changed."""
    changes = []
    if contacts is not None:
        before = _names(opp.contacts.all())
        after = _names(contacts)
        if before != after:
            opp.contacts.set(contacts)
            changes.append(
                {
                    "field": "contacts",
                    "label": _relation_label("contacts"),
                    "old": before,
                    "new": after,
                }
            )
    if team is not None:
        before = _names(opp.team.all())
        after = _names(team)
        if before != after:
            opp.team.set(team)
            changes.append(
                {"field": "team", "label": _relation_label("team"), "old": before, "new": after}
            )
    if lines is not None:
        before = _lines_text(opp.lines.all())
        after = _lines_text(lines)
        if before != after:
            opp.lines.all().delete()
            for line in lines:
                line.opportunity = opp
            OpportunityLine.objects.bulk_create(lines)
            changes.append(
                {"field": "lines", "label": _relation_label("lines"), "old": before, "new": after}
            )
    return changes


def _bump(opp: Opportunity, *, by: User | None) -> None:
    """A change of related rows is a new version of the opportunity too."""
    updated = Opportunity.all_objects.filter(pk=opp.pk, version=opp.version).update(
        version=F("version") + 1, updated_at=timezone.now(), updated_by=by
    )
    if updated == 0:
        raise Conflict()
    opp.refresh_from_db(fields=["version", "updated_at", "updated_by"])


# --- Stages -------------------------------------------------------------------------------------


def _open_visit(opp: Opportunity, stage: Stage, *, at: datetime, by: User | None) -> StageVisit:
    return StageVisit.objects.create(
        opportunity=opp,
        stage=stage,
        stage_name=stage.name,
        probability=stage.probability,
        entered_at=at,
        by=by,
    )


def _after_entering(
    opp: Opportunity, from_stage: Stage | None, stage: Stage, *, by: User | None
) -> None:
    from tuoke.customers.services import Cause, advance_lifecycle

    if stage.marks_intent:
        # Read again: the customer in memory may be older than its stored status.
        customer = Customer.all_objects.select_for_update().get(pk=opp.customer_id)
        if advance_lifecycle(
            customer, to=LifecycleStatus.INTENT, cause=Cause.OPPORTUNITY_STAGE, by=by
        ):
            opp.customer = customer
    stage_changed.send(
        sender=Opportunity, opportunity=opp, from_stage=from_stage, to_stage=stage, by=by
    )


def _enter(
    opp: Opportunity, stage: Stage, *, by: User | None, version: int | None, **changes: Any
) -> Opportunity:
    """Move ``opp`` into ``stage``: its facts, its history (the current visit closed, a new
    one opened), the lifecycle hook and the signal."""
    from_stage = opp.stage
    now = timezone.now()
    status = {
        StageKind.OPEN: OpportunityStatus.OPEN,
        StageKind.WON: OpportunityStatus.WON,
        StageKind.LOST: OpportunityStatus.LOST,
    }[StageKind(stage.kind)]
    opp = core_services.update_record(
        opp,
        by=by,
        expected_version=version,
        stage=stage,
        status=status,
        stage_entered_at=now,
        last_activity_at=now,
        **changes,
    )
    StageVisit.objects.filter(opportunity=opp, left_at__isnull=True).update(left_at=now)
    _open_visit(opp, stage, at=now, by=by)
    _after_entering(opp, from_stage, stage, by=by)
    return opp


def _check_open(opp: Opportunity) -> None:
    if opp.status != OpportunityStatus.OPEN:
        raise _error(
            "stage",
            _("This opportunity is closed: reopen it before moving it."),
            SalesError.CLOSED,
        )


def _check_version(opp: Opportunity, version: int | None) -> None:
    if version is not None and version != opp.version:
        raise Conflict()


@transaction.atomic
def move_stage(
    opp: Opportunity, stage: Stage, *, by: User | None, version: int | None = None
) -> Opportunity:
    """Move an open opportunity to another open stage of its pipeline, if the opportunity
    has what that stage requires; recorded in its stage history."""
    _check_version(opp, version)
    _check_open(opp)
    stage = _check_open_stage(opp.pipeline, stage)
    if stage.pk == opp.stage_id:
        return opp
    _refuse_missing(stage, required_missing(opp, stage))
    return _enter(opp, stage, by=by, version=version)


@transaction.atomic
def win(
    opp: Opportunity, *, by: User | None, note: str = "", version: int | None = None
) -> Opportunity:
    """The deal is won: it enters its pipeline's won stage. (The customer is signed by its
    contract, not here.)"""
    _check_version(opp, version)
    _check_open(opp)
    note = _text(note, "note", NOTE_MAX)
    stage = end_stage(opp.pipeline, StageKind.WON)
    _refuse_missing(stage, required_missing(opp, stage))
    return _enter(
        opp,
        stage,
        by=by,
        version=version,
        closed_at=timezone.now(),
        close_note=note,
        lost_reason=None,
    )


@transaction.atomic
def lose(
    opp: Opportunity,
    *,
    by: User | None,
    reason: LostReason | None,
    note: str = "",
    version: int | None = None,
) -> Opportunity:
    """The deal is lost, for a reason from the list (and a note)."""
    _check_version(opp, version)
    _check_open(opp)
    if reason is None:
        raise _error("reason", _("Choose why the opportunity was lost."), ErrorCode.REQUIRED)
    if not reason.active or reason.deleted_at is not None:
        raise _error(
            "reason",
            _("“%(reason)s” is no longer offered; choose another reason.") % {"reason": reason},
            SalesError.INACTIVE,
        )
    note = _text(note, "note", NOTE_MAX)
    stage = end_stage(opp.pipeline, StageKind.LOST)
    _refuse_missing(stage, required_missing(opp, stage))
    return _enter(
        opp,
        stage,
        by=by,
        version=version,
        closed_at=timezone.now(),
        close_note=note,
        lost_reason=reason,
    )


@transaction.atomic
def reopen(
    opp: Opportunity, *, stage: Stage, by: User | None, version: int | None = None
) -> Opportunity:
    """A manager's correction: a won or lost opportunity goes back to an open stage."""
    if by is not None:
        require(by, Opportunity.record_type, Action.APPROVE)
    _check_version(opp, version)
    if opp.status == OpportunityStatus.OPEN:
        raise _error("status", _("This opportunity is open already."), SalesError.NOT_CLOSED)
    stage = _check_open_stage(opp.pipeline, stage)
    _refuse_missing(stage, required_missing(opp, stage))
    return _enter(
        opp, stage, by=by, version=version, closed_at=None, close_note="", lost_reason=None
    )


# --- Recycle bin, handover, activity ------------------------------------------------------------


@transaction.atomic
def delete_opportunity(opp: Opportunity, *, by: User | None) -> None:
    """Move an opportunity to the recycle bin, its lines and history with it."""
    core_services.soft_delete(opp, by=by)


@transaction.atomic
def restore_opportunity(opp: Opportunity, *, by: User | None) -> None:
    """Bring an opportunity back (its customer must be back first)."""
    core_services.restore(opp, by=by)


@transaction.atomic
def transfer_opportunities(
    opportunities: Iterable[Opportunity], *, to: User, reason: str, by: User | None
) -> int:
    """Give opportunities to another owner (a handover, or assigning many from the list): a
    manager's action (``approve`` on opportunities); each move audited with its reason. The
    new owner leaves the deal's team, where he was in it."""
    if by is not None:
        require(by, Opportunity.record_type, Action.APPROVE)
    reason = (reason or "").strip()
    if not reason:
        raise _error("reason", _("Say why the opportunities are transferred."), ErrorCode.REQUIRED)
    if to is None or not to.is_active:
        raise _error("to", _("Choose an active user."), ErrorCode.INVALID)
    label = str(Opportunity._meta.get_field("owner").verbose_name)
    note = _("Transferred: %(reason)s") % {"reason": reason}
    moved = 0
    for opp in opportunities:
        if opp.owner_id == to.pk:
            continue
        before = str(opp.owner)
        Opportunity.all_objects.filter(pk=opp.pk).update(
            owner=to, version=F("version") + 1, updated_at=timezone.now(), updated_by=by
        )
        Opportunity.team.through.objects.filter(opportunity_id=opp.pk, user_id=to.pk).delete()
        audit.record(
            opp,
            kind=AuditEntry.Kind.UPDATE,
            actor=by,
            changes=[{"field": "owner", "label": label, "old": before, "new": str(to)}],
            note=note,
        )
        moved += 1
    return moved


def touch_activity(customer: Customer | int, at: datetime | None = None) -> int:
    """Something was done with the customer (a follow-up was logged): its open opportunities'
    last activity moves forward to ``at`` (never back). Not an edit: no version, no audit.
    Returns how many moved."""
    at = at or timezone.now()
    customer_id = customer.pk if isinstance(customer, Customer) else customer
    return (
        Opportunity.objects.filter(customer_id=customer_id, status=OpportunityStatus.OPEN)
        .filter(Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=at))
        .update(last_activity_at=at)
    )


# --- From a lead --------------------------------------------------------------------------------

# "预算 50 万", "预算约30w", "budget: 80k", "预算：120000元"
_BUDGET = re.compile(r"(?:预算|budget)\D{0,6}?(\d+(?:\.\d+)?)\s*(万|w|k|千|元)?", re.IGNORECASE)
_BUDGET_UNITS = {"万": 10000, "w": 10000, "k": 1000, "千": 1000}
TITLE_FROM_NEEDS = 60


def budget_in(text: str) -> Decimal | None:
    """The budget a lead's needs mention ("预算 50 万" → 500000), if any."""
    found = _BUDGET.search((text or "").replace(",", "").replace("，", ""))
    if found is None:
        return None
    number = Decimal(found.group(1)) * _BUDGET_UNITS.get((found.group(2) or "").lower(), 1)
    return number.quantize(Decimal("0.01"))


def opportunity_facts_of(lead: Any) -> dict[str, Any]:
    """What an opportunity made from a lead starts with: the first line of its needs as the
    title (else the company's name), the budget they mention as the amount, the needs as the
    description."""
    needs = (lead.needs or "").strip()
    first_line = needs.splitlines()[0].strip() if needs else ""
    title = first_line[:TITLE_FROM_NEEDS] or _("New business: %(company)s") % {
        "company": lead.display_name
    }
    return {"title": title, "amount": budget_in(needs), "description": needs}


@transaction.atomic
def create_from_lead(
    lead: Any,
    *,
    customer: Customer,
    contact: Contact | None,
    by: User | None,
    facts: dict[str, Any] | None = None,
) -> Opportunity:
    """The opportunity a lead's conversion asked for: the lead's owner's, its source lead and
    channel set, its contact involved; ``facts`` (title, amount, pipeline, stage …) over those
    taken from the lead. Errors are named ``opportunity.…``."""
    values = {**opportunity_facts_of(lead), **(facts or {})}
    values.setdefault("owner", lead.owner)
    values.setdefault("channel", lead.channel)
    if contact is not None:
        values.setdefault("contacts", [contact])
    values.pop("customer", None)
    values["source_lead"] = lead
    try:
        return create_opportunity(customer=customer, by=by, **values)
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise ValidationError(
            {f"opportunity.{field}": errors for field, errors in exc.error_dict.items()}
        ) from exc
