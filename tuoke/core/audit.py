"""Writing and reading the audit trail."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from .models import AuditEntry


def _render(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def field_value(instance: models.Model, name: str) -> str:
    field = instance._meta.get_field(name)
    if field.many_to_many:
        if instance.pk is None:
            return ""
        return ", ".join(sorted(str(o) for o in getattr(instance, name).all()))
    if field.is_relation:
        return _render(getattr(instance, name))
    if getattr(field, "choices", None):
        return _render(getattr(instance, f"get_{name}_display")())
    return _render(getattr(instance, field.attname))


def snapshot(instance: models.Model, names: list[str]) -> dict[str, str]:
    return {name: field_value(instance, name) for name in names}


def diff(
    instance: models.Model, before: dict[str, str], after: dict[str, str]
) -> list[dict[str, str]]:
    """The fields that changed, old → new. A model's ``audit_masked`` (field name → function)
    has those values compared as they are but recorded masked: a secret stays out of the trail."""
    masks = getattr(instance, "audit_masked", {})
    changes = []
    for name, old in before.items():
        new = after.get(name, "")
        if old != new:
            if name in masks:
                old, new = masks[name](old), masks[name](new)
            label = str(instance._meta.get_field(name).verbose_name)
            changes.append({"field": name, "label": label, "old": old, "new": new})
    return changes


def record(
    instance: models.Model,
    *,
    kind: str,
    actor=None,
    changes: list[dict[str, str]] | None = None,
    note: str = "",
) -> AuditEntry:
    return AuditEntry.objects.create(
        content_type=ContentType.objects.get_for_model(instance, for_concrete_model=True),
        object_id=instance.pk,
        object_repr=str(instance)[:200],
        kind=kind,
        actor=actor if actor is not None and actor.is_authenticated else None,
        changes=changes or [],
        note=note[:500],
    )


def trail_of(instance: models.Model):
    """The audit entries of one record, newest first (the caller has checked access)."""
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(instance, for_concrete_model=True),
        object_id=instance.pk,
    ).select_related("actor")


def _client_ip(request) -> str:
    if request is None:
        return ""
    return request.META.get("REMOTE_ADDR", "")


def record_login(*, user, request) -> None:
    record(user, kind=AuditEntry.Kind.LOGIN, actor=user, note=_client_ip(request))


def record_login_failed(*, username: str, request) -> None:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=username).first()
    if user is not None:
        record(user, kind=AuditEntry.Kind.LOGIN_FAILED, note=_client_ip(request))
