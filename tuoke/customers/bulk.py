"""Changes to many customers at once, picked on the list: put a tag on them or take it off.
(Handing many customers over is ``services.transfer_customers``.) Each customer that changes
gets its own audit entry and a new version, so an edit form opened before is told it is stale.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tuoke.core import audit
from tuoke.core.errors import ErrorCode, field_error
from tuoke.core.models import Action, AuditEntry
from tuoke.core.scope import scope_queryset

from .models import Customer, Tag

if TYPE_CHECKING:
    from tuoke.org.models import User

# More than a few pages at once is a handover or an import, not a pick on the list.
MAX_CUSTOMERS = 1000


@transaction.atomic
def add_tag(customers: Iterable[Customer], *, tag: Tag, by: User | None) -> int:
    """Put ``tag`` on each customer that lacks it; returns how many changed."""
    return _change_tag(list(customers), tag=tag, by=by, add=True)


@transaction.atomic
def remove_tag(customers: Iterable[Customer], *, tag: Tag, by: User | None) -> int:
    """Take ``tag`` off each customer that has it; returns how many changed."""
    return _change_tag(list(customers), tag=tag, by=by, add=False)


def _change_tag(customers: list[Customer], *, tag: Tag, by: User | None, add: bool) -> int:
    if not customers:
        raise field_error("ids", _("Select at least one customer."), ErrorCode.REQUIRED)
    if len(customers) > MAX_CUSTOMERS:
        raise field_error(
            "ids",
            _("Select at most %(count)s customers at once.") % {"count": MAX_CUSTOMERS},
            ErrorCode.INVALID,
        )
    if tag.deleted_at is not None:
        raise field_error("tag", _("This tag is in the recycle bin."), ErrorCode.INVALID)
    ids = {c.pk for c in customers}
    if by is not None:
        editable = scope_queryset(Customer.objects.filter(pk__in=ids), by, Action.EDIT)
        if editable.count() != len(ids):
            raise field_error(
                "ids",
                _("You may not change some of the selected customers."),
                ErrorCode.FORBIDDEN,
            )
    links = Customer.tags.through.objects
    tagged = set(links.filter(tag=tag, customer_id__in=ids).values_list("customer_id", flat=True))
    changed = [c for c in customers if (c.pk in tagged) != add]
    if not changed:
        return 0
    changed_ids = [c.pk for c in changed]
    before: dict[int, list[str]] = defaultdict(list)
    current = links.filter(customer_id__in=changed_ids, tag__deleted_at__isnull=True)
    for customer_id, name in current.values_list("customer_id", "tag__name"):
        before[customer_id].append(name)
    if add:
        links.bulk_create(
            [links.model(customer_id=pk, tag_id=tag.pk) for pk in changed_ids],
            ignore_conflicts=True,
        )
    else:
        links.filter(tag=tag, customer_id__in=changed_ids).delete()
    Customer.all_objects.filter(pk__in=changed_ids).update(
        version=models.F("version") + 1, updated_at=timezone.now(), updated_by=by
    )
    label = str(Customer._meta.get_field("tags").verbose_name)
    for customer in changed:
        old = sorted(before[customer.pk])
        new = sorted([*old, tag.name]) if add else [n for n in old if n != tag.name]
        audit.record(
            customer,
            kind=AuditEntry.Kind.UPDATE,
            actor=by,
            changes=[
                {"field": "tags", "label": label, "old": ", ".join(old), "new": ", ".join(new)}
            ],
        )
    return len(changed)
