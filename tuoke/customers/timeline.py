"""The customer's own events on its timeline: lifecycle moves, ownership changes, the other
changes of its audit trail, and contacts added (registered in CustomersConfig.ready).

The customer was fetched through the reader's data scope; its lifecycle history and audit trail
come with it (as on the customer page), its contacts through their own scope.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tuoke.core.models import Action, AuditEntry
from tuoke.core.scope import can
from tuoke.core.timeline import Event, Source, register

from .models import Contact, Customer, LifecycleChange, LifecycleStatus

# Lifecycle moves have their own source; an audit entry of one is not shown twice.
OWNER = "owner"
LIFECYCLE = "lifecycle_status"
TRAIL_KINDS = (
    AuditEntry.Kind.CREATE,
    AuditEntry.Kind.UPDATE,
    AuditEntry.Kind.DELETE,
    AuditEntry.Kind.RESTORE,
)


def changes_field_q(name: str) -> Q:
    """Audit entries whose ``changes`` name the field ``name``."""
    if connection.vendor == "postgresql":
        return Q(changes__contains=[{"field": name}])
    # SQLite: no JSON containment in Django's lookups; ask json_each for it.
    sql = (
        "EXISTS (SELECT 1 FROM json_each(core_auditentry.changes) AS change "
        "WHERE json_extract(change.value, '$.field') = %s)"
    )
    # The field name is a parameter, never spliced into the SQL.
    return Q(RawSQL(sql, (name,), output_field=models.BooleanField()))  # noqa: S611


def _trail(customer: Customer) -> models.QuerySet:
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer),
        object_id=customer.pk,
        kind__in=TRAIL_KINDS,
    )


def _label(name: str, fallback: str) -> str:
    try:
        return str(Customer._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return fallback or name


def _changes_html(changes: list[dict]) -> str:
    rows = []
    for change in changes:
        old, new = change.get("old") or "", change.get("new") or "—"
        rows.append(
            (
                change.get("field", ""),
                _label(change.get("field", ""), change.get("label", "")).capitalize(),
                format_html('<span class="audit-old">{}</span> → ', old) if old else "",
                new,
            )
        )
    if not rows:
        return ""
    items = format_html_join(
        "",
        '<li data-field="{}"><span class="text-secondary">{}:</span> {}<span>{}</span></li>',
        rows,
    )
    return format_html('<ul class="list-unstyled small mb-0">{}</ul>', items)


def _note_html(note: str) -> str:
    return format_html('<div class="small text-secondary">{}</div>', note) if note else ""


# --- Lifecycle ----------------------------------------------------------------------------------


def lifecycle_keys(customer: Customer, user) -> models.QuerySet:
    # The first status is told by the creation of the customer.
    return LifecycleChange.objects.filter(customer=customer).exclude(from_status="")


def load_lifecycle(pks: list[int], user) -> list[Event]:
    events = []
    for change in LifecycleChange.objects.filter(pk__in=pks).select_related("by"):
        title = _("Status: %(old)s → %(new)s") % {
            "old": change.get_from_status_display(),
            "new": change.get_to_status_display(),
        }
        events.append(
            Event(
                at=change.at,
                kind="lifecycle",
                pk=change.pk,
                title=title,
                color="red" if change.to_status == LifecycleStatus.CHURNED else "",
                body=_note_html(change.reason),
                actor=change.by,
            )
        )
    return events


# --- Ownership and other changes ----------------------------------------------------------------


def ownership_keys(customer: Customer, user) -> models.QuerySet:
    return _trail(customer).filter(Q(kind=AuditEntry.Kind.UPDATE) & changes_field_q(OWNER))


def changes_keys(customer: Customer, user) -> models.QuerySet:
    moved = Q(kind=AuditEntry.Kind.UPDATE) & (changes_field_q(OWNER) | changes_field_q(LIFECYCLE))
    return _trail(customer).exclude(moved)


def _entries(pks: list[int]):
    return AuditEntry.objects.filter(pk__in=pks).select_related("actor")


def load_ownership(pks: list[int], user) -> list[Event]:
    events = []
    for entry in _entries(pks):
        owner = next((c for c in entry.changes if c.get("field") == OWNER), {})
        others = [c for c in entry.changes if c.get("field") != OWNER]
        title = _("Owner: %(old)s → %(new)s") % {
            "old": owner.get("old") or "—",
            "new": owner.get("new") or "—",
        }
        events.append(
            Event(
                at=entry.at,
                kind="ownership",
                pk=entry.pk,
                title=title,
                body=format_html("{}{}", _note_html(entry.note), _changes_html(others)),
                actor=entry.actor,
            )
        )
    return events


def _changes_title(entry: AuditEntry) -> str:
    if entry.kind == AuditEntry.Kind.CREATE:
        return _("Customer created")
    if entry.kind == AuditEntry.Kind.DELETE:
        return _("Moved to the recycle bin")
    if entry.kind == AuditEntry.Kind.RESTORE:
        return _("Restored from the recycle bin")
    if entry.changes:
        labels = [_label(c.get("field", ""), c.get("label", "")) for c in entry.changes]
        return _("Changed %(fields)s") % {"fields": "、".join(labels[:3])} + (
            "…" if len(labels) > 3 else ""
        )
    return entry.note or _("Changed")


def load_changes(pks: list[int], user) -> list[Event]:
    events = []
    for entry in _entries(pks):
        title = _changes_title(entry)
        note = "" if title == entry.note else entry.note
        # A creation lists every first value: the customer page shows those already.
        changes = [] if entry.kind == AuditEntry.Kind.CREATE else entry.changes
        events.append(
            Event(
                at=entry.at,
                kind="changes",
                pk=entry.pk,
                title=title,
                color="red" if entry.kind == AuditEntry.Kind.DELETE else "",
                body=format_html("{}{}", _changes_html(changes), _note_html(note)),
                actor=entry.actor,
            )
        )
    return events


# --- Contacts -----------------------------------------------------------------------------------


def contact_keys(customer: Customer, user) -> models.QuerySet:
    return Contact.objects.visible_to(user).filter(customer=customer)


def load_contacts(pks: list[int], user) -> list[Event]:
    events = []
    for contact in Contact.objects.filter(pk__in=pks).select_related("created_by"):
        title = _("Contact added: %(name)s") % {"name": contact.name}
        details = [contact.title, _("key person") if contact.is_key_person else ""]
        body = format_html(
            '<div class="small text-secondary">{}</div>', " · ".join(d for d in details if d)
        )
        events.append(
            Event(
                at=contact.created_at,
                kind="contact",
                pk=contact.pk,
                title=title,
                body=body if any(details) else "",
                actor=contact.created_by,
            )
        )
    return events


def register_sources() -> None:
    register(
        Source(
            key="lifecycle",
            label=gettext_lazy("Status changes"),
            icon="stairs-up",
            color="purple",
            keys=lifecycle_keys,
            load=load_lifecycle,
            at="at",
            order=40,
        )
    )
    register(
        Source(
            key="ownership",
            label=gettext_lazy("Ownership"),
            icon="user-share",
            color="orange",
            keys=ownership_keys,
            load=load_ownership,
            at="at",
            order=50,
        )
    )
    register(
        Source(
            key="changes",
            label=gettext_lazy("Field changes"),
            icon="pencil",
            color="secondary",
            keys=changes_keys,
            load=load_changes,
            at="at",
            order=60,
        )
    )
    register(
        Source(
            key="contact",
            label=gettext_lazy("Contacts"),
            icon="user-plus",
            color="teal",
            keys=contact_keys,
            load=load_contacts,
            order=70,
            available=lambda user: can(user, "contact", Action.VIEW),
        )
    )
