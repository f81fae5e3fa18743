"""Every write on leads and channels: creation with the duplicate flag and the round-robin
assignment, edits, assignment and handover, cleaning, conversion into a customer and a contact,
channels with their costs, and assignment rules."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from tuoke.core import audit, custom_fields
from tuoke.core import services as core_services
from tuoke.core.errors import ErrorCode, field_error
from tuoke.core.models import Action, AuditEntry, Scope
from tuoke.core.scope import may_act_on, require, scope_of, scope_queryset
from tuoke.customers import matching
from tuoke.customers import services as customer_services
from tuoke.customers.models import Contact, Customer, LifecycleStatus

from .errors import LeadError, lead_error
from .models import (
    OPEN_STATUSES,
    AssignmentMember,
    AssignmentRule,
    Channel,
    ChannelCost,
    CleaningKind,
    Lead,
    LeadStatus,
)

if TYPE_CHECKING:
    from tuoke.org.models import User

lead_converted = Signal()
"""Sent when a lead became a customer, with ``lead``, ``customer``, ``contact`` (or None),
``by`` and ``opportunity`` (None, or the facts of an opportunity the conversion asked for):
the hook for the sales app (an opportunity from the lead's needs).

Sent inside the conversion's transaction, so a receiver's writes commit or roll back with it;
receivers defer notifications with ``transaction.on_commit``."""


# --- Facts --------------------------------------------------------------------------------------

TEXT_FIELDS = (
    "company_name",
    "short_name",
    "industry",
    "province",
    "city",
    "contact_name",
    "title",
    "needs",
    "credit_code",
    "mobile",
    "phone",
    "email",
)
IDENTIFYING = frozenset({"company_name", "short_name", "credit_code", "mobile", "phone", "email"})


def _normalised(facts: dict[str, Any]) -> dict[str, Any]:
    """Trimmed text, the credit code checked, phones in E.164 and e-mail folded, so that the
    stored values match customers' (one duplicate engine)."""
    errors: dict[str, list[str]] = {}
    for name in TEXT_FIELDS:
        if name in facts:
            facts[name] = (facts[name] or "").strip()
    if facts.get("credit_code"):
        try:
            facts["credit_code"] = matching.validate_credit_code(facts["credit_code"])
        except ValidationError as exc:
            errors["credit_code"] = exc.messages
    for name in ("mobile", "phone"):
        if facts.get(name):
            try:
                facts[name] = matching.normalize_phone(facts[name])
            except ValidationError as exc:
                errors[name] = exc.messages
    if facts.get("email"):
        facts["email"] = matching.normalize_email(facts["email"])
        try:
            validate_email(facts["email"])
        except ValidationError as exc:
            errors["email"] = exc.messages
    if errors:
        raise ValidationError(errors, code=ErrorCode.INVALID)
    return facts


def _with_keys(facts: dict[str, Any], current: Lead | None = None) -> dict[str, Any]:
    company = facts.get("company_name", current.company_name if current else "")
    short = facts.get("short_name", current.short_name if current else "")
    name_key = matching.normalize_company_name(company) or matching.normalize_company_name(short)
    full, initials = matching.pinyin_keys(name_key) if name_key else ("", "")
    facts["name_key"] = name_key[:200]
    facts["pinyin_full"], facts["pinyin_initials"] = full[:400], initials[:100]
    return facts


# --- Duplicates ---------------------------------------------------------------------------------

# Candidates scored per kind; beyond this a name is too common to tell anything.
SIMILAR_CANDIDATES = 50


@dataclass
class LeadCandidate:
    """An existing lead or customer that looks like the lead being entered."""

    kind: Literal["lead", "customer"]
    record: Lead | Customer
    match: matching.Match
    visible: bool  # False: the user may learn only its name and owner

    @property
    def name(self) -> str:
        return self.record.display_name

    @property
    def owner(self) -> User:
        return self.record.owner

    @property
    def is_same(self) -> bool:
        return self.match.kind == "same"


@dataclass
class LeadDuplicates:
    same: list[LeadCandidate] = field(default_factory=list)
    similar: list[LeadCandidate] = field(default_factory=list)

    @property
    def candidates(self) -> list[LeadCandidate]:
        return [*self.same, *self.similar]

    def first_same(self, kind: str) -> Lead | Customer | None:
        return next((c.record for c in self.same if c.kind == kind), None)


def _stored_keys(lead: Lead) -> matching.MatchKeys:
    return matching.MatchKeys(
        name_key=lead.name_key,
        pinyin_full=lead.pinyin_full,
        pinyin_initials=lead.pinyin_initials,
        credit_code=lead.credit_code,
        phones=tuple(p for p in (lead.mobile, lead.phone) if p),
        emails=(lead.email,) if lead.email else (),
    )


def find_lead_duplicates(
    *,
    user: User | None,
    company_name: str = "",
    short_name: str = "",
    credit_code: str = "",
    phones: Iterable[str] = (),
    emails: Iterable[str] = (),
    exclude: Lead | None = None,
) -> LeadDuplicates:
    """Open leads and customers that are the same company (or person) or look like it.

    The customers come from ``customers.services.find_duplicates``; the leads are fetched by
    the same indexed keys and scored by the same ``matching.compare``. Converted leads are
    represented by their customer, cleaned ones are out of the work.
    """
    phones, emails = list(phones), list(emails)
    keys = matching.keys_for(
        legal_name=company_name,
        short_name=short_name,
        credit_code=credit_code,
        phones=phones,
        emails=emails,
    )
    report = LeadDuplicates()
    condition = models.Q()
    if keys.name_key:
        condition |= models.Q(name_key=keys.name_key)
    if keys.pinyin_initials:
        condition |= models.Q(pinyin_initials=keys.pinyin_initials)
    if keys.credit_code:
        condition |= models.Q(credit_code=keys.credit_code)
    if keys.phones:
        condition |= models.Q(mobile__in=keys.phones) | models.Q(phone__in=keys.phones)
    if keys.emails:
        condition |= models.Q(email__in=keys.emails)
    if condition:
        leads = Lead.objects.filter(condition, status__in=OPEN_STATUSES)
        if exclude is not None and exclude.pk:
            leads = leads.exclude(pk=exclude.pk)
        found = list(leads.select_related("owner").order_by("-created_at")[:SIMILAR_CANDIDATES])
        visible: set[int] = set()
        if user is not None and found:
            visible = set(
                scope_queryset(Lead.objects.all(), user, Action.VIEW)
                .filter(pk__in=[lead.pk for lead in found])
                .values_list("pk", flat=True)
            )
        for lead in found:
            match = matching.compare(keys, _stored_keys(lead))
            if match is not None:
                candidate = LeadCandidate(
                    "lead", lead, match, visible=user is None or lead.pk in visible
                )
                (report.same if candidate.is_same else report.similar).append(candidate)
    customers = customer_services.find_duplicates(
        user=user,
        legal_name=company_name,
        short_name=short_name,
        credit_code=credit_code,
        phones=phones,
        emails=emails,
    )
    for c in [*customers.same, *customers.similar]:
        candidate = LeadCandidate("customer", c.customer, c.match, visible=c.visible)
        (report.same if candidate.is_same else report.similar).append(candidate)
    report.same.sort(key=lambda c: -c.match.score)
    report.similar.sort(key=lambda c: -c.match.score)
    return report


def duplicates_of(lead: Lead, *, user: User | None) -> LeadDuplicates:
    """The duplicate check for a stored lead (its own row left out)."""
    return find_lead_duplicates(
        user=user,
        company_name=lead.company_name,
        short_name=lead.short_name,
        credit_code=lead.credit_code,
        phones=[p for p in (lead.mobile, lead.phone) if p],
        emails=[lead.email] if lead.email else [],
        exclude=lead,
    )


def _flags(report: LeadDuplicates) -> dict[str, Any]:
    return {
        "duplicate_of": report.first_same("lead"),
        "duplicate_customer": report.first_same("customer"),
    }


# --- Assignment rules: the round robin -----------------------------------------------------------


def matching_rules(*, channel: Channel | None, entered_by: User | None) -> list[AssignmentRule]:
    """The active rules that apply to a lead of ``channel`` entered by ``entered_by``, the most
    specific first: a rule for the channel before one for any channel, then the rule of the
    nearest unit before those of units above it and rules for anyone."""
    rules = AssignmentRule.objects.filter(active=True).select_related("unit")
    if channel is not None:
        rules = rules.filter(models.Q(channel=channel) | models.Q(channel__isnull=True))
    else:
        rules = rules.filter(channel__isnull=True)
    unit = getattr(entered_by, "unit", None) if entered_by is not None else None
    path = unit.path if unit is not None else None
    fitting = [
        r for r in rules if r.unit_id is None or (path is not None and path.startswith(r.unit.path))
    ]
    fitting.sort(
        key=lambda r: (
            r.channel_id is None,
            r.unit_id is None,
            -(r.unit.depth if r.unit is not None else 0),
            r.sort_order,
            r.pk,
        )
    )
    return fitting


def next_member(rule: AssignmentRule) -> User | None:
    """The member after the one who got the last lead, skipping deactivated users; moves the
    rule's pointer on. The rule's row is locked so that two leads never go to the same turn."""
    locked = AssignmentRule.objects.select_for_update().get(pk=rule.pk)
    members = [m.user for m in AssignmentMember.objects.filter(rule=locked).select_related("user")]
    if not members:
        return None
    ids = [m.pk for m in members]
    start = ids.index(locked.last_assigned_id) + 1 if locked.last_assigned_id in ids else 0
    for step in range(len(members)):
        candidate = members[(start + step) % len(members)]
        if candidate.is_active:
            # The pointer is bookkeeping, not an edit of the rule: no version, no audit.
            AssignmentRule.objects.filter(pk=locked.pk).update(last_assigned=candidate)
            rule.last_assigned = candidate
            return candidate
    return None


def pick_owner(
    *, channel: Channel | None, entered_by: User | None
) -> tuple[User | None, AssignmentRule | None]:
    """The owner the first applicable rule with an active member gives, and that rule."""
    for rule in matching_rules(channel=channel, entered_by=entered_by):
        member = next_member(rule)
        if member is not None:
            return member, rule
    return None, None


def assignable_users(user: User):
    """Active users ``user`` may hand leads to: within his ``approve`` scope on leads, and
    holding a role that lets them work on leads."""
    from tuoke.org.models import User as UserModel

    scope = scope_of(user, "lead", Action.APPROVE)
    people = UserModel.objects.filter(is_active=True)
    if scope == Scope.NONE:
        return people.none()
    if scope != Scope.ALL:
        if scope == Scope.OWN or user.unit_id is None:
            people = people.filter(pk=user.pk)
        elif scope == Scope.UNIT:
            people = people.filter(models.Q(unit_id=user.unit_id) | models.Q(pk=user.pk))
        else:
            unit = user.unit
            assert unit is not None  # unit_id was checked above
            people = people.filter(
                models.Q(unit__path__startswith=unit.path) | models.Q(pk=user.pk)
            )
    workers = UserModel.objects.filter(
        models.Q(is_superuser=True)
        | models.Q(
            roles__deleted_at__isnull=True,
            roles__grants__record_type="lead",
            roles__grants__action__in=[Action.EDIT, Action.ADMINISTER],
        )
    )
    return people.filter(pk__in=workers.values("pk")).order_by("unit__path", "username")


def _check_may_assign(by: User, to: User, field_name: str) -> None:
    require(by, "lead", Action.APPROVE)
    if not assignable_users(by).filter(pk=to.pk).exists():
        raise field_error(
            field_name, _("You cannot give leads to this person."), ErrorCode.FORBIDDEN
        )


# --- Leads --------------------------------------------------------------------------------------


@transaction.atomic
def create_lead(
    *,
    by: User | None,
    owner: User | None = None,
    channel: Channel | None = None,
    **facts: Any,
) -> Lead:
    """Record a lead. Without an owner the matching assignment rule picks one in turn (else the
    person entering it keeps it). The same company or person already among the open leads or
    the customers does not stop it: the lead is flagged (``duplicate_of`` /
    ``duplicate_customer``) for someone to clean it as a duplicate."""
    facts = _normalised(dict(facts))
    facts["custom"] = custom_fields.apply_values(
        {}, custom_fields.clean_values(Lead.custom_fields_target, facts.get("custom") or {})
    )
    if channel is not None and not channel.active:
        raise lead_error(
            "channel", _("This channel takes no new leads."), LeadError.INACTIVE_CHANNEL
        )
    rule = None
    if owner is not None:
        if by is not None and owner.pk != by.pk:
            _check_may_assign(by, owner, "owner")
    else:
        owner, rule = pick_owner(channel=channel, entered_by=by)
        owner = owner or by
    if owner is None:
        raise lead_error(
            "owner",
            _("No assignment rule applies to this lead: choose its owner."),
            LeadError.NO_OWNER,
        )
    if not owner.is_active:
        raise field_error("owner", _("Choose an active user."), ErrorCode.INVALID)
    report = find_lead_duplicates(
        user=by,
        company_name=facts.get("company_name", ""),
        short_name=facts.get("short_name", ""),
        credit_code=facts.get("credit_code", ""),
        phones=[p for p in (facts.get("mobile"), facts.get("phone")) if p],
        emails=[facts["email"]] if facts.get("email") else [],
    )
    lead = core_services.create_record(
        Lead,
        by=by,
        owner=owner,
        channel=channel,
        status=LeadStatus.NEW,
        **_flags(report),
        **_with_keys(facts),
    )
    if rule is not None:
        audit.record(
            lead,
            kind=AuditEntry.Kind.UPDATE,
            actor=by,
            note=_("Assigned to %(owner)s by the rule “%(rule)s”")
            % {"owner": owner, "rule": rule.name},
        )
    return lead


# Changed by their own services (assign, clean, convert), never by an edit.
NOT_EDITABLE = frozenset(
    {
        "owner",
        "owner_id",
        "cleaning_kind",
        "cleaning_reason",
        "duplicate_of",
        "duplicate_customer",
        "converted_customer",
        "converted_contact",
        "converted_at",
    }
)


@transaction.atomic
def update_lead(
    lead: Lead, *, by: User | None, expected_version: int | None = None, **changes: Any
) -> Lead:
    """Change a lead's facts (its status only between new and working). A converted lead stays
    as it was converted: it is the customer's origin."""
    for name in NOT_EDITABLE & changes.keys():
        raise field_error(
            name,
            _("This is changed by assigning, cleaning or converting the lead, not by editing."),
            ErrorCode.INVALID,
        )
    if lead.status == LeadStatus.CONVERTED:
        raise lead_error(
            "status",
            _("A converted lead is kept as it was; change the customer instead."),
            LeadError.ALREADY_CONVERTED,
        )
    if "status" in changes and (changes["status"] not in OPEN_STATUSES or not lead.is_open):
        raise field_error(
            "status",
            _("Set a lead to new or working here; clean or convert it with those actions."),
            ErrorCode.INVALID,
        )
    channel = changes.get("channel")
    if channel is not None and channel.pk != lead.channel_id and not channel.active:
        raise lead_error(
            "channel", _("This channel takes no new leads."), LeadError.INACTIVE_CHANNEL
        )
    changes = _normalised(dict(changes))
    if "custom" in changes:
        cleaned = custom_fields.clean_values(
            Lead.custom_fields_target, changes["custom"] or {}, partial=True, current=lead.custom
        )
        changes["custom"] = custom_fields.apply_values(lead.custom, cleaned)
    if IDENTIFYING & changes.keys():
        changes = _with_keys(changes, lead)
        if lead.is_open:
            merged = {n: changes.get(n, getattr(lead, n)) for n in IDENTIFYING}
            report = find_lead_duplicates(
                user=by,
                company_name=merged["company_name"],
                short_name=merged["short_name"],
                credit_code=merged["credit_code"],
                phones=[p for p in (merged["mobile"], merged["phone"]) if p],
                emails=[merged["email"]] if merged["email"] else [],
                exclude=lead,
            )
            changes.update(_flags(report))
    return core_services.update_record(lead, by=by, expected_version=expected_version, **changes)


@transaction.atomic
def delete_lead(lead: Lead, *, by: User | None) -> None:
    """Move a lead to the recycle bin (restorable there)."""
    core_services.soft_delete(lead, by=by)


def _move_owner(leads: Iterable[Lead], *, to: User, by: User | None, note: str) -> int:
    label = str(Lead._meta.get_field("owner").verbose_name)
    moved = 0
    for lead in leads:
        if lead.owner_id == to.pk:
            continue
        before = str(lead.owner)
        Lead.all_objects.filter(pk=lead.pk).update(
            owner=to, version=models.F("version") + 1, updated_by=by, updated_at=timezone.now()
        )
        audit.record(
            lead,
            kind=AuditEntry.Kind.UPDATE,
            actor=by,
            changes=[{"field": "owner", "label": label, "old": before, "new": str(to)}],
            note=note,
        )
        moved += 1
    return moved


@transaction.atomic
def assign_leads(leads: Iterable[Lead], *, to: User, by: User | None, reason: str = "") -> int:
    """Hand leads to a rep by hand (one or many): a manager's or marketing's action
    (``approve`` on leads, to someone within that scope); each move is audited."""
    if not to.is_active:
        raise field_error("to", _("Choose an active user."), ErrorCode.INVALID)
    if by is not None:
        _check_may_assign(by, to, "to")
    reason = (reason or "").strip()
    note = _("Assigned: %(reason)s") % {"reason": reason} if reason else _("Assigned")
    return _move_owner(leads, to=to, by=by, note=note)


@transaction.atomic
def transfer_leads(leads: Iterable[Lead], *, to: User, reason: str, by: User | None) -> int:
    """Hand a rep's leads over to another (he leaves or changes team), with a reason; like
    ``customers.services.transfer_customers``, history intact and every move audited."""
    reason = (reason or "").strip()
    if not reason:
        raise field_error("reason", _("Say why the leads are transferred."), ErrorCode.REQUIRED)
    if not to.is_active:
        raise field_error("to", _("Choose an active user."), ErrorCode.INVALID)
    if by is not None:
        _check_may_assign(by, to, "to")
    return _move_owner(leads, to=to, by=by, note=_("Transferred: %(reason)s") % {"reason": reason})


def _check_cleanable(lead: Lead) -> None:
    if lead.status == LeadStatus.CONVERTED:
        raise lead_error(
            "status",
            _("“%(lead)s” was converted into a customer and cannot be cleaned.")
            % {"lead": lead.display_name},
            LeadError.ALREADY_CONVERTED,
        )


def _clean_args(kind: str, reason: str) -> str:
    if kind not in CleaningKind.values:
        raise field_error("kind", _("Choose invalid, duplicate or junk."), ErrorCode.INVALID)
    reason = (reason or "").strip()
    if not reason:
        raise field_error("reason", _("Say why the lead is cleaned."), ErrorCode.REQUIRED)
    if len(reason) > 500:
        raise field_error(
            "reason", _("Ensure this value has at most 500 characters."), ErrorCode.INVALID
        )
    return reason


@transaction.atomic
def clean_lead(
    lead: Lead,
    *,
    kind: str,
    reason: str,
    by: User | None,
    expected_version: int | None = None,
) -> Lead:
    """Take a lead out of the work as invalid, a duplicate or junk, with the reason. It stays
    (filterable, countable per channel) and can be brought back with ``unclean_lead``."""
    reason = _clean_args(kind, reason)
    _check_cleanable(lead)
    return core_services.update_record(
        lead,
        by=by,
        expected_version=expected_version,
        status=LeadStatus.CLEANED,
        cleaning_kind=kind,
        cleaning_reason=reason,
    )


@transaction.atomic
def clean_leads(leads: Iterable[Lead], *, kind: str, reason: str, by: User | None) -> int:
    """Clean many leads with one kind and reason (all or none)."""
    reason = _clean_args(kind, reason)
    leads = list(leads)
    for lead in leads:
        _check_cleanable(lead)
    cleaned = 0
    for lead in leads:
        if lead.status == LeadStatus.CLEANED and lead.cleaning_kind == kind:
            continue
        clean_lead(lead, kind=kind, reason=reason, by=by)
        cleaned += 1
    return cleaned


@transaction.atomic
def unclean_lead(lead: Lead, *, by: User | None, expected_version: int | None = None) -> Lead:
    """Bring a cleaned lead back into the work (as new); the audit trail keeps why it was out."""
    if lead.status != LeadStatus.CLEANED:
        raise lead_error("status", _("This lead is not cleaned."), LeadError.NOT_CLEANED)
    return core_services.update_record(
        lead,
        by=by,
        expected_version=expected_version,
        status=LeadStatus.NEW,
        cleaning_kind="",
        cleaning_reason="",
    )


# --- Conversion ---------------------------------------------------------------------------------

CUSTOMER_FACTS = (
    "legal_name",
    "short_name",
    "credit_code",
    "nature",
    "size",
    "industry",
    "province",
    "city",
    "website",
    "note",
)
CONTACT_FACTS = ("name", "title", "mobile", "phone", "email")


def customer_facts_of(lead: Lead) -> dict[str, str]:
    """What a new customer takes over from the lead."""
    return {
        "legal_name": lead.company_name,
        "short_name": lead.short_name,
        "credit_code": lead.credit_code,
        "industry": lead.industry,
        "province": lead.province,
        "city": lead.city,
    }


def contact_facts_of(lead: Lead) -> dict[str, str]:
    """What the new contact takes over from the lead."""
    return {
        "name": lead.contact_name,
        "title": lead.title,
        "mobile": lead.mobile,
        "phone": lead.phone,
        "email": lead.email,
    }


@dataclass
class Conversion:
    customer: Customer
    contact: Contact | None
    created: bool  # a new customer, not an existing one
    opportunity: Any = None  # the opportunity the conversion asked for (sales.Opportunity)


def _prefixed(exc: ValidationError, prefix: str, renames: dict[str, str]) -> ValidationError:
    """The errors of a customer service named after the conversion's input
    (``customer.legal_name``, ``contact.mobile``)."""
    if not hasattr(exc, "error_dict"):
        return exc
    return ValidationError(
        {
            renames.get(name, f"{prefix}.{name}" if name != "__all__" else "__all__"): errors
            for name, errors in exc.error_dict.items()
        }
    )


def _existing_contact(customer: Customer, facts: dict[str, Any]) -> Contact | None:
    """A contact of the customer that is the same person (same mobile or e-mail)."""
    condition = models.Q()
    if facts.get("mobile"):
        condition |= models.Q(mobile=matching.normalize_phone(facts["mobile"]))
    if facts.get("email"):
        condition |= models.Q(email=matching.normalize_email(facts["email"]))
    if not condition:
        return None
    return customer.contacts.filter(condition).first()


@transaction.atomic
def convert_lead(
    lead: Lead,
    *,
    by: User | None,
    customer: Customer | None = None,
    customer_facts: dict[str, Any] | None = None,
    contact_facts: dict[str, Any] | None = None,
    allow_similar: bool = False,
    opportunity: dict[str, Any] | None = None,
) -> Conversion:
    """Turn a lead into a customer and a contact, or attach it to an existing customer.

    A new customer goes through ``create_customer`` (its duplicate check applies), owned by
    the lead's owner. The customer's lifecycle moves on because the lead was converted, its
    audit trail notes the lead and channel, and the lead keeps its row as the customer's
    origin (``customer.source_leads``). Errors are named after the input: ``customer.…``,
    ``contact.…``. ``opportunity`` (facts, possibly empty) asks the receivers of
    ``lead_converted`` for an opportunity too (the sales app opens one, its errors named
    ``opportunity.…``, and the caller needs the right to create opportunities); None asks
    for none.
    """
    if lead.status == LeadStatus.CONVERTED:
        raise lead_error(
            "status", _("This lead was converted already."), LeadError.ALREADY_CONVERTED
        )
    if lead.status == LeadStatus.CLEANED:
        raise lead_error(
            "status",
            _("This lead is cleaned; bring it back before converting it."),
            LeadError.CLEANED,
        )
    if opportunity is not None and by is not None:
        require(by, "opportunity", Action.CREATE)
    customer_facts = dict(customer_facts if customer_facts is not None else customer_facts_of(lead))
    contact_facts = dict(contact_facts if contact_facts is not None else contact_facts_of(lead))
    contact_facts = {k: v.strip() if isinstance(v, str) else v for k, v in contact_facts.items()}
    wants_contact = bool(contact_facts.get("name"))
    contact: Contact | None = None
    if customer is None:
        if by is not None:
            require(by, "customer", Action.CREATE)
        try:
            customer = customer_services.create_customer(
                by=by,
                owner=lead.owner,
                allow_similar=allow_similar,
                contacts=[contact_facts] if wants_contact else [],
                lifecycle_status=LifecycleStatus.LEAD,
                **{k: v for k, v in customer_facts.items() if k in CUSTOMER_FACTS},
            )
        except ValidationError as exc:
            renames = {f: f"contact.{f}" for f in CONTACT_FACTS}
            raise _prefixed(exc, "customer", {**renames, "contacts": "contact"}) from exc
        contact = customer.contacts.first() if wants_contact else None
        created = True
    else:
        if by is not None and not may_act_on(by, customer, Action.EDIT):
            raise field_error(
                "customer", _("You may not change this customer."), ErrorCode.FORBIDDEN
            )
        created = False
        if wants_contact:
            try:
                contact = _existing_contact(customer, contact_facts)
                if contact is None:
                    contact = customer_services.create_contact(
                        customer,
                        by=by,
                        **{k: v for k, v in contact_facts.items() if k in CONTACT_FACTS},
                    )
            except ValidationError as exc:
                raise _prefixed(exc, "contact", {}) from exc
    customer_services.advance_lifecycle(
        customer,
        to=LifecycleStatus.POTENTIAL,
        cause=customer_services.Cause.LEAD_CONVERTED,
        by=by,
    )
    core_services.update_record(
        lead,
        by=by,
        status=LeadStatus.CONVERTED,
        converted_customer=customer,
        converted_contact=contact,
        converted_at=timezone.now(),
    )
    channel = lead.channel.name if lead.channel is not None else _("no channel")
    audit.record(
        customer,
        kind=AuditEntry.Kind.UPDATE,
        actor=by,
        note=_("Converted from lead #%(pk)s “%(lead)s” (channel: %(channel)s)")
        % {"pk": lead.pk, "lead": lead.display_name, "channel": channel},
    )
    lead_converted.send(
        sender=Lead,
        lead=lead,
        customer=customer,
        contact=contact,
        by=by,
        opportunity=opportunity,
    )
    opened = None
    if opportunity is not None and hasattr(lead, "opportunities"):
        # The receiver opened it with this lead as its source (``Opportunity.source_lead``).
        opened = lead.opportunities.order_by("-pk").first()
    return Conversion(customer=customer, contact=contact, created=created, opportunity=opened)


# --- Channels and their costs -------------------------------------------------------------------


def _check_channel_name(name: str, exclude: Channel | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise field_error("name", _("Give the channel a name."), ErrorCode.REQUIRED)
    clash = Channel.objects.filter(name=name)
    if exclude is not None:
        clash = clash.exclude(pk=exclude.pk)
    if clash.exists():
        raise field_error(
            "name", _("There is already a channel with this name."), ErrorCode.DUPLICATE
        )
    return name


@transaction.atomic
def create_channel(
    *, by: User | None, name: str, kind: str, active: bool = True, note: str = ""
) -> Channel:
    return core_services.create_record(
        Channel,
        by=by,
        name=_check_channel_name(name),
        kind=kind,
        active=active,
        note=(note or "").strip(),
    )


@transaction.atomic
def update_channel(
    channel: Channel, *, by: User | None, expected_version: int | None = None, **changes: Any
) -> Channel:
    if "name" in changes:
        changes["name"] = _check_channel_name(changes["name"], exclude=channel)
    if "note" in changes:
        changes["note"] = (changes["note"] or "").strip()
    return core_services.update_record(channel, by=by, expected_version=expected_version, **changes)


@transaction.atomic
def delete_channel(channel: Channel, *, by: User | None) -> None:
    """Move a channel to the recycle bin; its leads and costs keep pointing at it."""
    core_services.soft_delete(channel, by=by)


def _check_period(
    channel: Channel, start: date, end: date, exclude: ChannelCost | None = None
) -> None:
    if start and end and end < start:
        raise field_error(
            "period_end", _("The period cannot end before it starts."), ErrorCode.INVALID
        )
    overlapping = ChannelCost.objects.filter(
        channel=channel, period_start__lte=end, period_end__gte=start
    )
    if exclude is not None:
        overlapping = overlapping.exclude(pk=exclude.pk)
    other = overlapping.first()
    if other is not None:
        raise lead_error(
            "period_start",
            _("This period overlaps the cost entry %(start)s – %(end)s of this channel.")
            % {"start": other.period_start.isoformat(), "end": other.period_end.isoformat()},
            LeadError.OVERLAP,
        )


@transaction.atomic
def add_channel_cost(
    channel: Channel,
    *,
    by: User | None,
    period_start: date,
    period_end: date,
    amount: Decimal,
    note: str = "",
) -> ChannelCost:
    """Record what a channel cost over a period; periods of one channel do not overlap, so
    that no money is counted twice."""
    _check_period(channel, period_start, period_end)
    return core_services.create_record(
        ChannelCost,
        by=by,
        channel=channel,
        period_start=period_start,
        period_end=period_end,
        amount=amount,
        note=(note or "").strip(),
    )


@transaction.atomic
def update_channel_cost(
    cost: ChannelCost, *, by: User | None, expected_version: int | None = None, **changes: Any
) -> ChannelCost:
    start = changes.get("period_start", cost.period_start)
    end = changes.get("period_end", cost.period_end)
    _check_period(cost.channel, start, end, exclude=cost)
    if "note" in changes:
        changes["note"] = (changes["note"] or "").strip()
    return core_services.update_record(cost, by=by, expected_version=expected_version, **changes)


@transaction.atomic
def delete_channel_cost(cost: ChannelCost, *, by: User | None) -> None:
    core_services.soft_delete(cost, by=by)


# --- Assignment rules ---------------------------------------------------------------------------


def _set_members(rule: AssignmentRule, members: list[User], *, by: User | None) -> None:
    before = ", ".join(str(m.user) for m in rule.memberships.select_related("user"))
    seen: list[User] = []
    for member in members:
        if member.pk not in {s.pk for s in seen}:
            seen.append(member)
    AssignmentMember.objects.filter(rule=rule).delete()
    AssignmentMember.objects.bulk_create(
        AssignmentMember(rule=rule, user=user, position=i) for i, user in enumerate(seen)
    )
    after = ", ".join(str(u) for u in seen)
    if before != after:
        label = str(AssignmentRule._meta.get_field("members").verbose_name)
        audit.record(
            rule,
            kind=AuditEntry.Kind.UPDATE,
            actor=by,
            changes=[{"field": "members", "label": label, "old": before, "new": after}],
        )


def _check_members(members: list[User]) -> None:
    if not members:
        raise field_error("members", _("Give the rule at least one member."), ErrorCode.REQUIRED)


@transaction.atomic
def create_rule(
    *,
    by: User | None,
    name: str,
    members: list[User],
    channel: Channel | None = None,
    unit=None,
    active: bool = True,
    sort_order: int = 0,
) -> AssignmentRule:
    """A round-robin rule: new leads of ``channel`` entered in ``unit`` go to ``members`` in
    turn."""
    _check_members(members)
    rule = core_services.create_record(
        AssignmentRule,
        by=by,
        name=(name or "").strip(),
        channel=channel,
        unit=unit,
        active=active,
        sort_order=sort_order,
    )
    _set_members(rule, members, by=by)
    return rule


@transaction.atomic
def update_rule(
    rule: AssignmentRule,
    *,
    by: User | None,
    expected_version: int | None = None,
    members: list[User] | None = None,
    **changes: Any,
) -> AssignmentRule:
    if "name" in changes:
        changes["name"] = (changes["name"] or "").strip()
    if members is not None:
        _check_members(members)
    rule = core_services.update_record(rule, by=by, expected_version=expected_version, **changes)
    if members is not None:
        _set_members(rule, members, by=by)
    return rule


@transaction.atomic
def delete_rule(rule: AssignmentRule, *, by: User | None) -> None:
    core_services.soft_delete(rule, by=by)
