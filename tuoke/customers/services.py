"""Every write on customers and contacts: creation with the duplicate check, edits, the
lifecycle, collaborators, handover (transfer) and merging two customers."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from tuoke.core import audit, custom_fields
from tuoke.core import services as core_services
from tuoke.core.crypto import cipher
from tuoke.core.errors import ErrorCode, field_error
from tuoke.core.models import Action, AuditEntry
from tuoke.core.scope import can, may_act_on, require, scope_queryset

from . import matching
from .models import (
    LIFECYCLE_ORDER,
    AccessRequest,
    Collaborator,
    Contact,
    Customer,
    LifecycleChange,
    LifecycleStatus,
    Tag,
)

if TYPE_CHECKING:
    from tuoke.org.models import User


class Cause(models.TextChoices):
    """Why a customer's lifecycle status moved; later apps call advance_lifecycle with theirs."""

    CREATED = "created", "created"
    LEAD_CONVERTED = "lead_converted", "lead converted"
    FOLLOW_UP = "follow_up", "first qualified follow-up"
    OPPORTUNITY_STAGE = "opportunity_stage", "opportunity reached a stage"
    CONTRACT_EFFECTIVE = "contract_effective", "contract became effective"
    FIRST_PAYMENT = "first_payment", "first payment received"
    OVERRIDE = "override", "overridden by a manager"


# --- Duplicate check ----------------------------------------------------------------------------


@dataclass
class Candidate:
    """An existing customer that looks like the one being entered."""

    customer: Customer
    match: matching.Match
    visible: bool  # False: the user may learn only its name and owner

    @property
    def is_same(self) -> bool:
        return self.match.kind == "same"


@dataclass
class DuplicateReport:
    same: list[Candidate] = field(default_factory=list)
    similar: list[Candidate] = field(default_factory=list)

    @property
    def blocking(self) -> bool:
        return bool(self.same)


# How many customers sharing a pinyin-initials key are scored; beyond it the name is too
# common to tell anything (e.g. two-letter initials).
SIMILAR_CANDIDATES = 50


def _keys_of(customer: Customer) -> matching.MatchKeys:
    contacts = list(customer.contacts.all()) if customer.pk else []
    return matching.keys_for(
        legal_name=customer.legal_name,
        short_name=customer.short_name,
        credit_code=customer.credit_code,
        phones=[p for c in contacts for p in (c.mobile, c.phone) if p],
        emails=[c.email for c in contacts if c.email],
    )


def find_duplicates(
    *,
    user: User | None,
    legal_name: str = "",
    short_name: str = "",
    credit_code: str = "",
    phones: Iterable[str] = (),
    emails: Iterable[str] = (),
    exclude: Customer | None = None,
) -> DuplicateReport:
    """Customers (of any owner) that are the same company or look like it, best first.

    Candidates are fetched by indexed keys (name key, credit code, pinyin initials, contact
    phones and e-mails) and scored by ``matching.compare``.
    """
    keys = matching.keys_for(
        legal_name=legal_name,
        short_name=short_name,
        credit_code=credit_code,
        phones=list(phones),
        emails=list(emails),
    )
    condition = models.Q()
    if keys.name_key:
        condition |= models.Q(name_key=keys.name_key)
    if keys.credit_code:
        condition |= models.Q(credit_code=keys.credit_code)
    if keys.pinyin_initials:
        condition |= models.Q(pinyin_initials=keys.pinyin_initials)
    contact_condition = models.Q()
    if keys.phones:
        contact_condition |= models.Q(mobile__in=keys.phones) | models.Q(phone__in=keys.phones)
    if keys.emails:
        contact_condition |= models.Q(email__in=keys.emails)
    if contact_condition:
        # The customers' ids rather than a subquery: PostgreSQL guesses that "… OR id IN
        # (subquery)" keeps half the customers and scans them all (280 ms on a million).
        matched = Contact.objects.filter(contact_condition).order_by()
        condition |= models.Q(
            pk__in=list(matched.values_list("customer_id", flat=True)[:SIMILAR_CANDIDATES])
        )
    report = DuplicateReport()
    if not condition:
        return report
    # No order: the candidates are ranked by score below, and ordering by date would make the
    # database walk its date index testing every customer against the keys.
    candidates = Customer.objects.filter(condition).select_related("owner").order_by()
    if exclude is not None and exclude.pk:
        candidates = candidates.exclude(pk=exclude.pk)
    candidates = list(candidates.prefetch_related("contacts")[:SIMILAR_CANDIDATES])
    visible_ids: set[int] = set()
    if user is not None and candidates:
        visible_ids = set(
            scope_queryset(Customer.objects.all(), user, Action.VIEW)
            .filter(pk__in=[c.pk for c in candidates])
            .values_list("pk", flat=True)
        )
    for customer in candidates:
        found = matching.compare(keys, _keys_of(customer))
        if found is None:
            continue
        candidate = Candidate(customer, found, visible=user is None or customer.pk in visible_ids)
        (report.same if candidate.is_same else report.similar).append(candidate)
    report.same.sort(key=lambda c: -c.match.score)
    report.similar.sort(key=lambda c: -c.match.score)
    return report


def _matched_field(existing: Customer, facts: dict[str, Any]) -> str:
    """The input field a "same" match rests on, so the message shows beside it."""
    if facts.get("credit_code") and existing.credit_code == facts["credit_code"]:
        return "credit_code"
    name = facts.get("legal_name") or facts.get("short_name") or ""
    if name and existing.name_key == matching.normalize_company_name(name):
        return "legal_name" if facts.get("legal_name") else "short_name"
    return "contacts"


def _refuse_duplicates(
    report: DuplicateReport, *, allow_similar: bool, facts: dict[str, Any]
) -> None:
    if report.same:
        first = report.same[0]
        raise field_error(
            _matched_field(first.customer, facts),
            _("This customer already exists: %(name)s (owner: %(owner)s, %(reasons)s).")
            % {
                "name": first.customer.display_name,
                "owner": first.customer.owner,
                "reasons": "、".join(str(r) for r in first.match.reasons),
            },
            ErrorCode.DUPLICATE,
        )
    if report.similar and not allow_similar:
        names = "、".join(c.customer.display_name for c in report.similar[:3])
        raise field_error(
            "legal_name",
            _(
                "Similar customers exist: %(names)s. Check that this is a different "
                "company, then confirm to save it."
            )
            % {"names": names},
            ErrorCode.SIMILAR,
        )


# --- Customers ----------------------------------------------------------------------------------


def _normalised_facts(facts: dict[str, Any]) -> dict[str, Any]:
    for name in ("legal_name", "short_name", "industry", "province", "city", "website", "note"):
        if name in facts and isinstance(facts[name], str):
            facts[name] = facts[name].strip()
    if facts.get("credit_code"):
        try:
            facts["credit_code"] = matching.validate_credit_code(facts["credit_code"])
        except ValidationError as exc:
            raise ValidationError({"credit_code": exc.messages}, code=ErrorCode.INVALID) from exc
    if facts.get("country"):
        facts["country"] = facts["country"].strip().upper()
    if facts.get("currency"):
        facts["currency"] = facts["currency"].strip().upper()
    return facts


def _with_keys(facts: dict[str, Any], current: Customer | None = None) -> dict[str, Any]:
    legal = facts.get("legal_name", current.legal_name if current else "")
    short = facts.get("short_name", current.short_name if current else "")
    name = legal or short
    facts["name_key"] = matching.normalize_company_name(name)[:200] if name else ""
    full, initials = matching.pinyin_keys(facts["name_key"]) if name else ("", "")
    facts["pinyin_full"], facts["pinyin_initials"] = full[:400], initials[:100]
    return facts


@transaction.atomic
def create_customer(
    *,
    by: User | None,
    owner: User | None = None,
    tags: Iterable[Tag] = (),
    contacts: Iterable[dict[str, Any]] = (),
    allow_similar: bool = False,
    **facts: Any,
) -> Customer:
    """Create a customer (and its first contacts) unless it already exists.

    The same company (credit code, a contact's phone or e-mail, or the normalised name) is
    refused; similar names are refused unless ``allow_similar`` says the user checked them.
    """
    facts = _normalised_facts(dict(facts))
    # Required custom fields are enforced on creation; values are stored as JSON.
    facts["custom"] = custom_fields.apply_values(
        {}, custom_fields.clean_values(Customer.custom_fields_target, facts.get("custom") or {})
    )
    contacts = [_normalised_contact(dict(c)) for c in contacts]
    report = find_duplicates(
        user=by,
        legal_name=facts.get("legal_name", ""),
        short_name=facts.get("short_name", ""),
        credit_code=facts.get("credit_code", ""),
        phones=[p for c in contacts for p in (c.get("mobile"), c.get("phone")) if p],
        emails=[c["email"] for c in contacts if c.get("email")],
    )
    _refuse_duplicates(report, allow_similar=allow_similar, facts=facts)
    status = facts.pop("lifecycle_status", LifecycleStatus.POTENTIAL)
    customer = core_services.create_record(
        Customer, by=by, owner=owner or by, lifecycle_status=status, **_with_keys(facts)
    )
    customer.tags.set(tags)
    LifecycleChange.objects.create(customer=customer, to_status=status, cause=Cause.CREATED, by=by)
    for contact in contacts:
        core_services.create_record(Contact, by=by, customer=customer, **contact)
    return customer


@transaction.atomic
def update_customer(
    customer: Customer,
    *,
    by: User | None,
    expected_version: int | None = None,
    tags: Iterable[Tag] | None = None,
    allow_similar: bool = False,
    **changes: Any,
) -> Customer:
    """Change a customer's facts (not its owner or status: see transfer and lifecycle)."""
    for forbidden in ("owner", "owner_id", "lifecycle_status"):
        if forbidden in changes:
            raise field_error(
                forbidden,
                _("This is changed by a transfer or by the lifecycle, not by editing."),
                ErrorCode.INVALID,
            )
    changes = _normalised_facts(dict(changes))
    if "custom" in changes:
        cleaned = custom_fields.clean_values(
            Customer.custom_fields_target,
            changes["custom"] or {},
            partial=True,
            current=customer.custom,
        )
        changes["custom"] = custom_fields.apply_values(customer.custom, cleaned)
    if {"legal_name", "short_name", "credit_code"} & changes.keys():
        report = find_duplicates(
            user=by,
            legal_name=changes.get("legal_name", customer.legal_name),
            short_name=changes.get("short_name", customer.short_name),
            credit_code=changes.get("credit_code", customer.credit_code),
            exclude=customer,
        )
        _refuse_duplicates(
            report,
            allow_similar=allow_similar,
            facts={
                "legal_name": changes.get("legal_name", customer.legal_name),
                "short_name": changes.get("short_name", customer.short_name),
                "credit_code": changes.get("credit_code", customer.credit_code),
            },
        )
        changes = _with_keys(changes, customer)
    customer = core_services.update_record(
        customer, by=by, expected_version=expected_version, **changes
    )
    if tags is not None:
        _set_tags(customer, list(tags), by=by)
    return customer


def _set_tags(customer: Customer, tags: list[Tag], *, by: User | None) -> None:
    before = ", ".join(sorted(t.name for t in customer.tags.all()))
    customer.tags.set(tags)
    after = ", ".join(sorted(t.name for t in tags))
    if before != after:
        label = str(Customer._meta.get_field("tags").verbose_name)
        audit.record(
            customer,
            kind=AuditEntry.Kind.UPDATE,
            actor=by,
            changes=[{"field": "tags", "label": label, "old": before, "new": after}],
        )


@transaction.atomic
def delete_customer(customer: Customer, *, by: User | None) -> None:
    """Move a customer to the recycle bin; its contacts stay with it and return with it."""
    core_services.soft_delete(customer, by=by)


# --- Lifecycle ----------------------------------------------------------------------------------


@transaction.atomic
def advance_lifecycle(customer: Customer, *, to: str, cause: str, by: User | None = None) -> bool:
    """Move a customer forward because something happened (the hook later apps call).

    Never moves backwards: an event for an earlier status than the current one is ignored, so
    hooks may fire freely. Returns whether the status changed.
    """
    current = customer.lifecycle_status
    if current == LifecycleStatus.CHURNED or to not in LIFECYCLE_ORDER:
        return False
    if LIFECYCLE_ORDER.index(to) <= LIFECYCLE_ORDER.index(current):
        return False
    _move(customer, to=to, cause=cause, by=by)
    return True


@transaction.atomic
def override_lifecycle(customer: Customer, *, to: str, reason: str, by: User) -> None:
    """A manager sets the status by hand, with a reason that is kept."""
    if not can(by, "customer", Action.APPROVE):
        raise field_error(
            "lifecycle_status",
            _("Only managers may set the lifecycle status by hand."),
            ErrorCode.FORBIDDEN,
        )
    if to not in LifecycleStatus.values:
        raise field_error("lifecycle_status", _("Unknown lifecycle status."), ErrorCode.INVALID)
    reason = reason.strip()
    if not reason:
        raise field_error("reason", _("Say why the status is set by hand."), ErrorCode.REQUIRED)
    if to != customer.lifecycle_status:
        _move(customer, to=to, cause=Cause.OVERRIDE, by=by, reason=reason)


def _move(customer: Customer, *, to: str, cause: str, by: User | None, reason: str = "") -> None:
    before = customer.get_lifecycle_status_display()
    LifecycleChange.objects.create(
        customer=customer,
        from_status=customer.lifecycle_status,
        to_status=to,
        cause=cause,
        reason=reason[:500],
        by=by,
    )
    Customer.all_objects.filter(pk=customer.pk).update(
        lifecycle_status=to, version=models.F("version") + 1
    )
    customer.refresh_from_db(fields=["lifecycle_status", "version"])
    label = str(Customer._meta.get_field("lifecycle_status").verbose_name)
    audit.record(
        customer,
        kind=AuditEntry.Kind.UPDATE,
        actor=by,
        changes=[
            {
                "field": "lifecycle_status",
                "label": label,
                "old": before,
                "new": customer.get_lifecycle_status_display(),
            }
        ],
        note=f"{cause}: {reason}" if reason else cause,
    )


# --- Collaborators ------------------------------------------------------------------------------


@transaction.atomic
def set_collaborator(
    customer: Customer, *, user: User, access: str | None, by: User | None
) -> None:
    """Share a customer with a colleague (read or edit), or stop sharing it (access None)."""
    if user.pk == customer.owner_id:
        raise field_error("user", _("The owner already has the customer."), ErrorCode.INVALID)
    if access is None:
        removed, _count = Collaborator.objects.filter(customer=customer, user=user).delete()
        note = f"collaborator removed: {user}" if removed else ""
    else:
        if access not in Collaborator.Access.values:
            raise field_error("access", _("Unknown access."), ErrorCode.INVALID)
        Collaborator.objects.update_or_create(
            customer=customer, user=user, defaults={"access": access}
        )
        note = f"collaborator {user}: {access}"
    if note:
        audit.record(customer, kind=AuditEntry.Kind.UPDATE, actor=by, note=note)


# --- Access requests ----------------------------------------------------------------------------


def may_share(user: User, customer: Customer) -> bool:
    """Who shares a customer (collaborators, access requests): whoever may edit it, which is
    its owner, his managers and colleagues the customer is shared with for editing."""
    return may_act_on(user, customer, Action.EDIT)


# The duplicate check names customers the user may not see; an encrypted token lets him ask
# for access to one of them without learning its id (a signed token would show it).
ACCESS_TOKEN_CONTEXT = b"tuoke.customers.access_request"
ACCESS_TOKEN_MAX_AGE = 7 * 24 * 3600


def _access_token_cipher() -> Fernet:
    return cipher(ACCESS_TOKEN_CONTEXT)


def access_token(user: User, customer: Customer) -> str:
    payload = json.dumps([customer.pk, user.pk]).encode()
    # Without its base64 padding: a decoder ignores whatever follows the padding.
    return _access_token_cipher().encrypt(payload).decode().rstrip("=")


def customer_for_access_token(user: User, token: str) -> Customer:
    """The customer a duplicate check showed this user (only by name and owner); 404 for a
    token that is forged, expired, someone else's, or of a customer gone since."""
    try:
        padded = token + "=" * (-len(token) % 4)
        plain = _access_token_cipher().decrypt(padded.encode(), ttl=ACCESS_TOKEN_MAX_AGE)
        customer_id, user_id = json.loads(plain)
    except (InvalidToken, ValueError, TypeError, UnicodeError) as exc:
        raise Http404 from exc
    customer = Customer.objects.select_related("owner").filter(pk=customer_id).first()
    if customer is None or user_id != user.pk:
        raise Http404
    return customer


def requests_to_decide(user: User) -> models.QuerySet[AccessRequest]:
    """Pending requests on customers ``user`` may edit (he may share them), oldest first;
    ``customer_visible`` is true on each, as on ``requests_of``."""
    return (
        AccessRequest.objects.filter(
            status=AccessRequest.Status.PENDING,
            customer__in=Customer.objects.visible_to(user, Action.EDIT),
        )
        .exclude(requester=user)
        .annotate(customer_visible=models.Value(True))
        .order_by("created_at", "pk")
    )


def requests_of(user: User) -> models.QuerySet[AccessRequest]:
    """The user's own requests with their answers, newest first; ``customer_visible`` says
    whether he sees the customer by now (in the same query, not one per request)."""
    visible = Customer.objects.visible_to(user).filter(pk=models.OuterRef("customer_id"))
    return (
        AccessRequest.objects.filter(requester=user, customer__deleted_at__isnull=True)
        .annotate(customer_visible=models.Exists(visible))
        .order_by("-created_at", "-pk")
    )


def request_to_decide(user: User, pk: int) -> AccessRequest:
    """A request on a customer the user may edit; 404 otherwise (he may not know of it)."""
    try:
        return AccessRequest.objects.select_related("requester", "customer").get(
            pk=pk, customer__in=Customer.objects.visible_to(user, Action.EDIT)
        )
    except (AccessRequest.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


@transaction.atomic
def request_access(
    customer: Customer, *, by: User, access: str = Collaborator.Access.READ, message: str = ""
) -> AccessRequest:
    """Ask a customer's owner to share it; the requester may not see it yet (he found it in
    the duplicate check). One request waits per requester and customer."""
    if access not in Collaborator.Access.values:
        raise field_error("access", _("Unknown access."), ErrorCode.INVALID)
    if by.pk == customer.owner_id:
        raise field_error("customer", _("You are this customer's owner."), ErrorCode.SELF_ACTION)
    needed = Action.EDIT if access == Collaborator.Access.EDIT else Action.VIEW
    if may_act_on(by, customer, needed):
        raise field_error(
            "access", _("You have this access to the customer already."), ErrorCode.INVALID
        )
    waiting = AccessRequest.objects.select_for_update().filter(
        customer=customer, requester=by, status=AccessRequest.Status.PENDING
    )
    if waiting.exists():
        raise field_error(
            "customer",
            _("You asked for access to this customer already; the answer is still pending."),
            ErrorCode.DUPLICATE,
        )
    request = AccessRequest.objects.create(
        customer=customer, requester=by, access=access, message=(message or "").strip()[:500]
    )
    audit.record(
        customer,
        kind=AuditEntry.Kind.UPDATE,
        actor=by,
        note=_("%(user)s asked for access (%(access)s)")
        % {"user": by, "access": request.get_access_display()},
    )
    return request


def _pending_for_decision(access_request: AccessRequest, by: User) -> AccessRequest:
    # Locked and read again: two managers answering at once must not both win.
    current = (
        AccessRequest.objects.select_for_update(of=("self",))
        .select_related("customer", "requester")
        .get(pk=access_request.pk)
    )
    if current.status != AccessRequest.Status.PENDING:
        raise field_error("status", _("This request was answered already."), ErrorCode.INVALID)
    if by.pk == current.requester_id:
        raise field_error("status", _("You cannot answer your own request."), ErrorCode.SELF_ACTION)
    if not may_share(by, current.customer):
        raise field_error(
            "status",
            _("Only the owner or someone who may edit the customer answers this request."),
            ErrorCode.FORBIDDEN,
        )
    return current


def _close(access_request: AccessRequest, *, status: str, by: User, note: str) -> None:
    access_request.status = status
    access_request.decided_by = by
    access_request.decided_at = timezone.now()
    access_request.decision_note = (note or "").strip()[:500]
    access_request.save(
        update_fields=["status", "decided_by", "decided_at", "decision_note", "access"]
    )


@transaction.atomic
def grant_access_request(
    access_request: AccessRequest, *, by: User, access: str | None = None, note: str = ""
) -> AccessRequest:
    """Share the customer with the requester as his collaborator, with the access asked
    for or the one the decider chose."""
    current = _pending_for_decision(access_request, by)
    current.access = access or current.access
    set_collaborator(current.customer, user=current.requester, access=current.access, by=by)
    _close(current, status=AccessRequest.Status.GRANTED, by=by, note=note)
    return current


@transaction.atomic
def decline_access_request(
    access_request: AccessRequest, *, by: User, note: str = ""
) -> AccessRequest:
    current = _pending_for_decision(access_request, by)
    _close(current, status=AccessRequest.Status.DECLINED, by=by, note=note)
    audit.record(
        current.customer,
        kind=AuditEntry.Kind.UPDATE,
        actor=by,
        note=_("Access request of %(user)s declined") % {"user": current.requester},
    )
    return current


# --- Tags ---------------------------------------------------------------------------------------


@transaction.atomic
def tag_named(name: str, *, by: User | None) -> Tag:
    """The tag with this name, created when there is none yet (tags are shared labels)."""
    name = (name or "").strip()
    if not name:
        raise field_error("name", _("Give the tag a name."), ErrorCode.REQUIRED)
    if len(name) > 30:
        raise field_error(
            "name", _("A tag has at most %(count)s characters.") % {"count": 30}, ErrorCode.INVALID
        )
    existing = Tag.objects.filter(name=name).first()
    return existing or core_services.create_record(Tag, by=by, name=name)


# --- Handover -----------------------------------------------------------------------------------


@transaction.atomic
def transfer_customers(
    customers: Iterable[Customer], *, to: User, reason: str, by: User | None
) -> int:
    """Give customers to another owner (handover when a rep leaves or changes team).

    A manager's action (``approve`` on customers). Contacts and history go with them; every
    move is audited with its reason.
    """
    if by is not None:
        require(by, "customer", Action.APPROVE)
    reason = reason.strip()
    if not reason:
        raise field_error("reason", _("Say why the customers are transferred."), ErrorCode.REQUIRED)
    if not to.is_active:
        raise field_error("to", _("Choose an active user."), ErrorCode.INVALID)
    moved = 0
    label = str(Customer._meta.get_field("owner").verbose_name)
    for customer in customers:
        if customer.owner_id == to.pk:
            continue
        before = str(customer.owner)
        Customer.all_objects.filter(pk=customer.pk).update(
            owner=to, version=models.F("version") + 1
        )
        Collaborator.objects.filter(customer=customer, user=to).delete()
        audit.record(
            customer,
            kind=AuditEntry.Kind.UPDATE,
            actor=by,
            changes=[{"field": "owner", "label": label, "old": before, "new": str(to)}],
            note=_("Transferred: %(reason)s") % {"reason": reason},
        )
        moved += 1
    return moved


# --- Merge --------------------------------------------------------------------------------------

# Facts the kept customer takes from the merged one where it has none itself.
MERGE_FILLED_FIELDS = (
    "legal_name",
    "credit_code",
    "nature",
    "size",
    "industry",
    "province",
    "city",
    "funding_stage",
    "website",
)


def _filled_by_merge(keep: Customer, merge: Customer) -> dict[str, Any]:
    return {
        name: getattr(merge, name)
        for name in MERGE_FILLED_FIELDS
        if not getattr(keep, name) and getattr(merge, name)
    }


@dataclass
class MergePreview:
    """What ``merge_customers`` would do, for the confirmation page."""

    moves: list[tuple[str, int]]  # (kind of record, how many) that move to the kept customer
    collaborators: int
    new_tags: list[Tag]
    filled: list[tuple[str, str]]  # (field label, value) the kept customer takes over


def merge_preview(*, keep: Customer, merge: Customer) -> MergePreview:
    """Count what moves when ``merge`` is folded into ``keep`` (one query per relation)."""
    moves: list[tuple[str, int]] = []
    for relation in Customer._meta.related_objects:
        if relation.related_model is Collaborator or not relation.one_to_many:
            continue
        manager = getattr(relation.related_model, "objects", None) or (
            relation.related_model._base_manager
        )
        count = manager.filter(**{relation.field.name: merge}).count()
        if count:
            moves.append((str(relation.related_model._meta.verbose_name_plural), count))
    kept_tags = {t.pk for t in keep.tags.all()}
    filled = []
    for name, value in _filled_by_merge(keep, merge).items():
        fact = Customer._meta.get_field(name)
        assert isinstance(fact, models.Field)
        shown = getattr(merge, f"get_{name}_display")() if fact.choices else value
        filled.append((str(fact.verbose_name), shown))
    return MergePreview(
        moves=moves,
        collaborators=Collaborator.objects.filter(customer=merge)
        .exclude(user_id=keep.owner_id)
        .count(),
        new_tags=[t for t in merge.tags.all() if t.pk not in kept_tags],
        filled=filled,
    )


@transaction.atomic
def merge_customers(*, keep: Customer, merge: Customer, by: User | None) -> Customer:
    """Fold ``merge`` into ``keep``: every record pointing at ``merge`` (contacts, lifecycle,
    and whatever later apps add) moves to ``keep``; ``merge`` goes to the recycle bin with
    its audit trail intact, and both trails record the merge."""
    if keep.pk == merge.pk:
        raise field_error("merge", _("Choose two different customers."), ErrorCode.INVALID)
    # Collaborators are unique per customer: keep the wider access where both have one.
    for link in Collaborator.objects.filter(customer=merge):
        existing = Collaborator.objects.filter(customer=keep, user=link.user).first()
        if link.user_id == keep.owner_id:
            link.delete()
        elif existing is None:
            link.customer = keep
            link.save(update_fields=["customer"])
        else:
            if link.access == Collaborator.Access.EDIT:
                existing.access = Collaborator.Access.EDIT
                existing.save(update_fields=["access"])
            link.delete()
    moved: list[str] = []
    for relation in Customer._meta.related_objects:
        if relation.related_model is Collaborator or not relation.one_to_many:
            continue
        manager = getattr(relation.related_model, "all_objects", None) or (
            relation.related_model._base_manager
        )
        count = manager.filter(**{relation.field.name: merge}).update(**{relation.field.name: keep})
        if count:
            moved.append(f"{relation.related_model._meta.verbose_name_plural}: {count}")
    keep.tags.add(*merge.tags.all())
    filled = _filled_by_merge(keep, merge)
    if filled:
        if "credit_code" in filled:
            # The merged record gives its code up, so that the kept one can hold it.
            Customer.all_objects.filter(pk=merge.pk).update(credit_code="")
        keep = core_services.update_record(keep, by=by, **_with_keys(filled, keep))
    summary = "; ".join(moved) or "-"
    audit.record(
        keep,
        kind=AuditEntry.Kind.UPDATE,
        actor=by,
        note=_("Merged %(other)s (#%(pk)s) into this customer: %(summary)s")
        % {"other": merge.display_name, "pk": merge.pk, "summary": summary},
    )
    core_services.soft_delete(
        merge,
        by=by,
        note=_("Merged into %(keep)s (#%(pk)s)") % {"keep": keep.display_name, "pk": keep.pk},
    )
    return keep


# --- Contacts -----------------------------------------------------------------------------------


def _normalised_contact(facts: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    for name in ("mobile", "phone"):
        if facts.get(name):
            try:
                facts[name] = matching.normalize_phone(facts[name])
            except ValidationError as exc:
                errors[name] = exc.messages
    if facts.get("email"):
        facts["email"] = matching.normalize_email(facts["email"])
    if "name" in facts:
        facts["name"] = (facts["name"] or "").strip()
    if errors:
        raise ValidationError(errors, code=ErrorCode.INVALID)
    return facts


def _contact_custom(facts: dict[str, Any], current: Contact | None = None) -> dict[str, Any]:
    """Custom field values given for a contact, checked and merged into the stored ones."""
    if "custom" in facts:
        stored = current.custom if current is not None else {}
        cleaned = custom_fields.clean_values(
            Contact.custom_fields_target,
            facts["custom"] or {},
            partial=current is not None,
            current=stored,
        )
        facts["custom"] = custom_fields.apply_values(stored, cleaned)
    return facts


@transaction.atomic
def create_contact(customer: Customer, *, by: User | None, **facts: Any) -> Contact:
    facts = _contact_custom(_normalised_contact(dict(facts)))
    _refuse_contact_duplicates(facts)
    return core_services.create_record(Contact, by=by, customer=customer, **facts)


@transaction.atomic
def update_contact(
    contact: Contact, *, by: User | None, expected_version: int | None = None, **changes: Any
) -> Contact:
    changes = _contact_custom(_normalised_contact(dict(changes)), contact)
    _refuse_contact_duplicates(changes, exclude=contact)
    return core_services.update_record(contact, by=by, expected_version=expected_version, **changes)


def _refuse_contact_duplicates(facts: dict[str, Any], exclude: Contact | None = None) -> None:
    """The same mobile or e-mail at another contact is the same person. The message names
    only that contact's customer and its owner, which anyone may learn."""
    messages = {
        "mobile": _("A contact of %(customer)s (owner: %(owner)s) already has this mobile."),
        "email": _("A contact of %(customer)s (owner: %(owner)s) already has this e-mail."),
    }
    for name, message in messages.items():
        value = facts.get(name)
        if not value:
            continue
        others = Contact.objects.filter(**{name: value}).select_related("customer__owner")
        if exclude is not None:
            others = others.exclude(pk=exclude.pk)
        other = others.first()
        if other is not None:
            raise field_error(
                name,
                message % {"customer": other.customer.display_name, "owner": other.customer.owner},
                ErrorCode.DUPLICATE,
            )


@transaction.atomic
def delete_contact(contact: Contact, *, by: User | None) -> None:
    core_services.soft_delete(contact, by=by)
