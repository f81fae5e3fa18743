"""Generic writes every app builds on: create, update with a version check, soft delete,
restore and purge, each audited and in one transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit
from .errors import Conflict, ErrorCode, field_error
from .models import AuditEntry, OwnedModel, TrackedModel

if TYPE_CHECKING:
    from tuoke.org.models import User

T = TypeVar("T", bound=TrackedModel)


@transaction.atomic
def create_record(model: type[T], *, by: User | None, **fields: Any) -> T:
    """Validate and insert a record, stamping who made it; audited."""
    if issubclass(model, OwnedModel) and "owner" not in fields and "owner_id" not in fields:
        fields["owner"] = by
    instance = model(**fields)
    instance.created_by = by
    instance.updated_by = by
    instance.full_clean()
    instance.save()
    names = model.tracked_field_names()
    changes = [
        {"field": c["field"], "label": c["label"], "old": "", "new": c["new"]}
        for c in audit.diff(instance, dict.fromkeys(names, ""), audit.snapshot(instance, names))
    ]
    audit.record(instance, kind=AuditEntry.Kind.CREATE, actor=by, changes=changes)
    return instance


@transaction.atomic
def update_record(
    instance: T,
    *,
    by: User | None,
    expected_version: int | None = None,
    **changes: Any,
) -> T:
    """Apply field changes if nobody else changed the record since ``expected_version``.

    Raises Conflict when the stored version moved on; audits each field's old → new.
    """
    model = type(instance)
    names = model.tracked_field_names()
    before = audit.snapshot(instance, names)
    if expected_version is not None and expected_version != instance.version:
        raise Conflict()
    for name, value in changes.items():
        setattr(instance, name, value)
    instance.full_clean()
    after = audit.snapshot(instance, names)
    field_changes = audit.diff(instance, before, after)
    if not field_changes:
        return instance
    instance.updated_by = by
    update_fields = [model._meta.get_field(n).name for n in changes]
    update_fields += ["updated_by", "updated_at", "version"]
    # The row-level check closes the gap between reading and writing.
    current = instance.version
    instance.version = F("version") + 1  # type: ignore[assignment]
    updated = model.all_objects.filter(pk=instance.pk, version=current).update(
        **{f: getattr(instance, f) for f in update_fields if f != "updated_at"},
        updated_at=timezone.now(),
    )
    if updated == 0:
        raise Conflict()
    instance.version = current + 1
    audit.record(instance, kind=AuditEntry.Kind.UPDATE, actor=by, changes=field_changes)
    return instance


@transaction.atomic
def soft_delete(instance: TrackedModel, *, by: User | None, note: str = "") -> None:
    """Move a record to the recycle bin; it can be restored until it is purged."""
    if instance.deleted_at is not None:
        return
    instance.deleted_at = timezone.now()
    instance.deleted_by = by
    instance.version += 1
    instance.save(update_fields=["deleted_at", "deleted_by", "version", "updated_at"])
    audit.record(instance, kind=AuditEntry.Kind.DELETE, actor=by, note=note)


@transaction.atomic
def restore(instance: TrackedModel, *, by: User | None) -> None:
    """Bring a record back from the recycle bin."""
    if instance.deleted_at is None:
        raise field_error(
            "deleted_at", _("This record is not in the recycle bin."), ErrorCode.NOT_DELETED
        )
    instance.deleted_at = None
    instance.deleted_by = None
    instance.version += 1
    instance.save(update_fields=["deleted_at", "deleted_by", "version", "updated_at"])
    audit.record(instance, kind=AuditEntry.Kind.RESTORE, actor=by)


def retention_cutoff(now=None, retention_days: int | None = None):
    days = settings.RECYCLE_BIN_RETENTION_DAYS if retention_days is None else retention_days
    return (now or timezone.now()) - timedelta(days=days)


def purge_date(instance: TrackedModel):
    """When a deleted record may be purged."""
    if instance.deleted_at is None:
        return None
    return instance.deleted_at + timedelta(days=settings.RECYCLE_BIN_RETENTION_DAYS)


@transaction.atomic
def purge(instance: TrackedModel, *, by: User | None, now=None) -> None:
    """Delete a record for good once its retention period is over; the audit trail stays."""
    if instance.deleted_at is None:
        raise field_error(
            "deleted_at", _("This record is not in the recycle bin."), ErrorCode.NOT_DELETED
        )
    if instance.deleted_at > retention_cutoff(now):
        raise field_error(
            "deleted_at",
            _("Records can be purged only %(days)s days after they were deleted.")
            % {"days": settings.RECYCLE_BIN_RETENTION_DAYS},
            ErrorCode.RETENTION_NOT_REACHED,
        )
    audit.record(instance, kind=AuditEntry.Kind.PURGE, actor=by)
    instance.delete()


def purge_expired(*, now=None) -> int:
    """Purge every record of every type deleted longer ago than the retention period."""
    from .scope import recyclable_types

    cutoff = retention_cutoff(now)
    purged = 0
    for model in recyclable_types().values():
        expired = model.all_objects.filter(deleted_at__lt=cutoff).order_by("pk")
        for instance in expired.iterator(chunk_size=500):
            try:
                purge(instance, by=None, now=now)
            except models.ProtectedError:
                # Something still points at it; it stays in the bin until that is gone.
                continue
            purged += 1
    return purged
