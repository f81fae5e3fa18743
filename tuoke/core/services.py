"""Generic writes every app builds on: create, update with a version check, soft delete,
restore and purge, each audited and in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit
from .errors import Conflict, ErrorCode, field_error
from .models import AuditEntry, CustomField, OwnedModel, TrackedModel

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
    before_custom = dict(getattr(instance, "custom", None) or {})
    if expected_version is not None and expected_version != instance.version:
        raise Conflict()
    for name, value in changes.items():
        setattr(instance, name, value)
    instance.full_clean()
    after = audit.snapshot(instance, names)
    field_changes = audit.diff(instance, before, after)
    if "custom" in changes:
        field_changes += _custom_changes(model, before_custom, getattr(instance, "custom", None))
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
        instance.version = current
        raise Conflict()
    instance.version = current + 1
    audit.record(instance, kind=AuditEntry.Kind.UPDATE, actor=by, changes=field_changes)
    return instance


def _custom_changes(model, before: dict, after: dict | None) -> list[dict[str, str]]:
    """The audit entries of changed custom values, labelled and shown as on the record's
    page; values of removed fields are compared too (they come back on restore)."""
    from .custom_fields import display_value

    after = after or {}
    target = getattr(model, "custom_fields_target", "")
    fields = {f.key: f for f in CustomField.all_objects.filter(target=target)}
    changes = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        field = fields.get(key)
        changes.append(
            {
                "field": f"custom.{key}",
                "label": field.label if field else key,
                "old": display_value(field, old) if field else str(old or ""),
                "new": display_value(field, new) if field else str(new or ""),
            }
        )
    return changes


@transaction.atomic
def soft_delete(instance: TrackedModel, *, by: User | None, note: str = "") -> None:
    """Move a record to the recycle bin; it can be restored until it is purged."""
    if instance.deleted_at is not None:
        return
    instance.deleted_at = timezone.now()
    instance.deleted_by = by
    _save_bumping_version(instance, ["deleted_at", "deleted_by"])
    audit.record(instance, kind=AuditEntry.Kind.DELETE, actor=by, note=note)


# What an app checks before a record of one of its models comes back from the recycle bin
# (``on_restore``): a payment may not take its contract above its amount, for instance.
_restore_checks: dict[type[models.Model], Callable[[Any], None]] = {}


def on_restore(model: type[TrackedModel], check: Callable[[Any], None]) -> None:
    """Run ``check(record)`` before a record of ``model`` is restored; it refuses the restore
    by raising a field error (``ValidationError``)."""
    _restore_checks[model] = check


@transaction.atomic
def restore(instance: TrackedModel, *, by: User | None) -> None:
    """Bring a record back from the recycle bin, if what it points at is living and its
    app's check (``on_restore``) allows it."""
    if instance.deleted_at is None:
        raise field_error(
            "deleted_at", _("This record is not in the recycle bin."), ErrorCode.NOT_DELETED
        )
    _refuse_deleted_references(instance)
    check = _restore_checks.get(type(instance))
    if check is not None:
        check(instance)
    instance.deleted_at = None
    instance.deleted_by = None
    try:
        # A savepoint: a uniqueness among living rows (one exchange rate per currency and
        # day …) may be taken again since the record was deleted.
        with transaction.atomic():
            _save_bumping_version(instance, ["deleted_at", "deleted_by"])
    except IntegrityError:
        instance.refresh_from_db(fields=["deleted_at", "deleted_by", "version"])
        raise field_error(
            "deleted_at",
            _(
                "“%(record)s” cannot come back: a record like it exists again. Change or "
                "delete that one first."
            )
            % {"record": instance},
            ErrorCode.DUPLICATE,
        ) from None
    audit.record(instance, kind=AuditEntry.Kind.RESTORE, actor=by)


def _refuse_deleted_references(instance: TrackedModel) -> None:
    """A record comes back only with what it points at (a unit with its parent unit…)."""
    for field in instance._meta.concrete_fields:
        related = field.related_model if field.many_to_one else None
        if related is None or not issubclass(related, TrackedModel):
            continue
        pk = getattr(instance, field.attname)
        target = related.all_objects.filter(pk=pk, deleted_at__isnull=False).first() if pk else None
        if target is not None:
            raise field_error(
                field.name,
                _("Restore %(field)s “%(record)s” from the recycle bin first.")
                % {"field": field.verbose_name, "record": target},
                ErrorCode.IN_USE,
            )


def _save_bumping_version(instance: TrackedModel, fields: list[str]) -> None:
    # Counting up in the database, so that a stale in-memory version never moves it back.
    instance.version = F("version") + 1  # type: ignore[assignment]
    instance.save(update_fields=[*fields, "version", "updated_at"])
    instance.refresh_from_db(fields=["version"])


def retention_cutoff(now=None, retention_days: int | None = None):
    days = settings.RECYCLE_BIN_RETENTION_DAYS if retention_days is None else retention_days
    return (now or timezone.now()) - timedelta(days=days)


def purge_date(instance: TrackedModel):
    """When a deleted record may be purged."""
    if instance.deleted_at is None:
        return None
    return instance.deleted_at + timedelta(days=settings.RECYCLE_BIN_RETENTION_DAYS)


@transaction.atomic
def purge(instance: TrackedModel, *, by: User | None, now=None) -> bool:
    """Delete a record for good once its retention period is over; the audit trail stays.

    Returns False when the record was already gone (purged meanwhile by someone else).
    """
    # Lock and re-read the row: two purge jobs may run at once (several workers, a manual
    # run beside the nightly one) and the record may have been restored since it was read.
    current = type(instance).all_objects.select_for_update().filter(pk=instance.pk).first()
    if current is None:
        return False
    instance.deleted_at = current.deleted_at
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
    return True


def purge_expired(*, now=None) -> int:
    """Purge every record of every type deleted longer ago than the retention period."""
    from .scope import recyclable_types

    cutoff = retention_cutoff(now)
    purged = 0
    for model in recyclable_types().values():
        # The ids first: no cursor stays open while rows are deleted (on SQLite an open read
        # would pin an old snapshot and make the writes fail when the web server wrote since).
        expired = model.all_objects.filter(deleted_at__lt=cutoff).order_by("pk")
        ids = list(expired.values_list("pk", flat=True))
        for start in range(0, len(ids), 500):
            batch = model.all_objects.filter(pk__in=ids[start : start + 500]).order_by("pk")
            for instance in batch:
                try:
                    purged += purge(instance, by=None, now=now)
                except models.ProtectedError:
                    # Something still points at it; it stays in the bin until that is gone.
                    continue
                except ValidationError:
                    # Restored since the ids were read.
                    continue
    return purged
