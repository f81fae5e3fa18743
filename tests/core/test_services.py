"""The generic writes: create and update with the audit trail and the version check, the
recycle bin (soft delete, restore, purge after the retention period)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError

from tuoke.core import services
from tuoke.core.audit import trail_of
from tuoke.core.errors import Conflict, ErrorCode
from tuoke.core.models import AuditEntry
from tuoke.org.models import OrgUnit, Role
from tuoke.org.services import create_unit

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2025, 3, 3, 9, 0, tzinfo=SHANGHAI)


def _codes(exc: ValidationError) -> dict[str, list[str]]:
    return {field: [e.code for e in errors] for field, errors in exc.error_dict.items()}


@pytest.fixture
def role(people):
    return services.create_record(
        Role, by=people["admin"], name="Key accounts", description="Big customers"
    )


def test_it_creates_a_record_and_audits_every_field(people):
    admin = people["admin"]
    role = services.create_record(Role, by=admin, name="Key accounts", description="")

    assert role.version == 1
    assert role.created_by == admin
    assert role.updated_by == admin
    (entry,) = trail_of(role)
    assert entry.kind == AuditEntry.Kind.CREATE
    assert entry.actor == admin
    # Empty fields are not news.
    assert entry.changes == [{"field": "name", "label": "name", "old": "", "new": "Key accounts"}]


def test_it_validates_before_creating(people):
    roles, entries = Role.all_objects.count(), AuditEntry.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.create_record(Role, by=people["admin"], name="", description="x" * 201)
    assert set(caught.value.error_dict) == {"name", "description"}
    assert (Role.all_objects.count(), AuditEntry.objects.count()) == (roles, entries)


def test_it_updates_a_record_and_audits_old_and_new(role, people):
    boss = people["boss"]
    services.update_record(role, by=boss, expected_version=1, name="Strategic accounts")

    role.refresh_from_db()
    assert role.name == "Strategic accounts"
    assert role.version == 2
    assert role.updated_by == boss
    entry = trail_of(role).first()
    assert entry.kind == AuditEntry.Kind.UPDATE
    assert entry.actor == boss
    assert entry.changes == [
        {"field": "name", "label": "name", "old": "Key accounts", "new": "Strategic accounts"}
    ]


def test_it_audits_a_relation_by_its_name(people):
    unit = create_unit(name="North", parent=None, by=None)
    services.update_record(unit, by=None, manager=people["director"])
    change = trail_of(unit).first().changes[0]
    assert (change["field"], change["old"], change["new"]) == ("manager", "", "孙总监")


def test_it_writes_nothing_when_nothing_changed(role):
    services.update_record(role, by=None, expected_version=1, name="Key accounts")
    role.refresh_from_db()
    assert role.version == 1
    assert trail_of(role).count() == 1


def test_it_refuses_an_update_based_on_a_stale_version(role, people):
    services.update_record(role, by=people["boss"], name="Strategic accounts")

    with pytest.raises(Conflict) as caught:
        services.update_record(role, by=people["admin"], expected_version=1, name="Mine")
    assert caught.value.code == ErrorCode.STALE_VERSION
    role.refresh_from_db()
    assert role.name == "Strategic accounts"
    assert role.version == 2


def test_it_detects_a_concurrent_write_at_the_row(role, people):
    # Two people opened the same record; the first one saves.
    mine = Role.objects.get(pk=role.pk)
    theirs = Role.objects.get(pk=role.pk)
    services.update_record(theirs, by=people["boss"], expected_version=1, name="Theirs")

    # My copy still says version 1, so the in-memory check passes; the row check does not.
    with pytest.raises(Conflict):
        services.update_record(mine, by=people["admin"], expected_version=1, name="Mine")
    assert mine.version == 1
    fresh = Role.objects.get(pk=role.pk)
    assert (fresh.name, fresh.version) == ("Theirs", 2)
    assert [e.actor for e in trail_of(role).filter(kind=AuditEntry.Kind.UPDATE)] == [people["boss"]]


def test_it_moves_a_record_to_the_recycle_bin_and_back(role, people):
    admin = people["admin"]
    services.soft_delete(role, by=admin, note="duplicate")

    assert not Role.objects.filter(pk=role.pk).exists()
    deleted = Role.all_objects.get(pk=role.pk)
    assert deleted.deleted_by == admin
    assert deleted.version == 2
    entry = trail_of(role).first()
    assert (entry.kind, entry.actor, entry.note) == (AuditEntry.Kind.DELETE, admin, "duplicate")

    services.soft_delete(deleted, by=admin)  # already in the bin: nothing happens
    assert trail_of(role).filter(kind=AuditEntry.Kind.DELETE).count() == 1

    services.restore(deleted, by=admin)
    restored = Role.objects.get(pk=role.pk)
    assert (restored.deleted_at, restored.deleted_by, restored.version) == (None, None, 3)
    assert trail_of(role).first().kind == AuditEntry.Kind.RESTORE


def test_it_does_not_move_the_version_back_when_deleting_a_stale_copy(role):
    stale = Role.objects.get(pk=role.pk)
    services.update_record(role, by=None, name="Renamed")
    services.soft_delete(stale, by=None)
    assert Role.all_objects.get(pk=role.pk).version == 3
    assert stale.version == 3


def test_it_refuses_to_restore_a_record_that_is_not_deleted(role):
    with pytest.raises(ValidationError) as caught:
        services.restore(role, by=None)
    assert _codes(caught.value) == {"deleted_at": [ErrorCode.NOT_DELETED]}


def test_it_purges_only_after_the_retention_period_and_keeps_the_trail(role, people, settings):
    settings.RECYCLE_BIN_RETENTION_DAYS = 30
    admin = people["admin"]
    role_id = role.pk
    with time_machine.travel(MONDAY, tick=False):
        services.soft_delete(role, by=admin)
    assert services.purge_date(role) == MONDAY + timedelta(days=30)

    with time_machine.travel(MONDAY + timedelta(days=29), tick=False):
        with pytest.raises(ValidationError) as caught:
            services.purge(role, by=admin)
        assert _codes(caught.value) == {"deleted_at": [ErrorCode.RETENTION_NOT_REACHED]}
        assert Role.all_objects.filter(pk=role.pk).exists()

    with time_machine.travel(MONDAY + timedelta(days=30, seconds=1), tick=False):
        assert services.purge(role, by=admin) is True

    assert role.pk is None  # Django forgets the id of a deleted row; the trail does not.
    assert not Role.all_objects.filter(pk=role_id).exists()
    trail = AuditEntry.objects.filter(object_id=role_id, object_repr=role.name).order_by("id")
    kinds = [e.kind for e in trail]
    assert kinds == [AuditEntry.Kind.CREATE, AuditEntry.Kind.DELETE, AuditEntry.Kind.PURGE]


def test_it_refuses_to_purge_a_record_that_is_not_deleted(role):
    with pytest.raises(ValidationError) as caught:
        services.purge(role, by=None)
    assert _codes(caught.value) == {"deleted_at": [ErrorCode.NOT_DELETED]}


def test_it_does_not_purge_a_record_restored_meanwhile(role):
    with time_machine.travel(MONDAY, tick=False):
        services.soft_delete(role, by=None)
    stale = Role.all_objects.get(pk=role.pk)
    services.restore(role, by=None)

    with time_machine.travel(MONDAY + timedelta(days=60)), pytest.raises(ValidationError):
        services.purge(stale, by=None)
    assert Role.objects.filter(pk=role.pk).exists()


def test_it_purges_a_record_only_once(role):
    with time_machine.travel(MONDAY, tick=False):
        services.soft_delete(role, by=None)
    first = Role.all_objects.get(pk=role.pk)
    second = Role.all_objects.get(pk=role.pk)
    with time_machine.travel(MONDAY + timedelta(days=60)):
        assert services.purge(first, by=None) is True
        assert services.purge(second, by=None) is False
    assert AuditEntry.objects.filter(object_id=second.pk, kind=AuditEntry.Kind.PURGE).count() == 1


def _delete_at(instance, moment):
    with time_machine.travel(moment, tick=False):
        services.soft_delete(instance, by=None)


def test_it_purges_every_expired_record_of_every_type(db, settings):
    settings.RECYCLE_BIN_RETENTION_DAYS = 30
    old_role = Role.objects.create(name="old")
    young_role = Role.objects.create(name="young")
    kept_role = Role.objects.create(name="kept")
    old_unit = create_unit(name="Old unit", by=None)
    _delete_at(old_role, MONDAY - timedelta(days=31))
    _delete_at(old_unit, MONDAY - timedelta(days=40))
    _delete_at(young_role, MONDAY - timedelta(days=29))

    with time_machine.travel(MONDAY, tick=False):
        assert services.purge_expired() == 2
        assert services.purge_expired() == 0

    names = set(Role.all_objects.filter(default_key="").values_list("name", flat=True))
    assert names == {"young", "kept"}
    assert not OrgUnit.all_objects.filter(pk=old_unit.pk).exists()
    assert Role.objects.filter(pk=kept_role.pk).exists()


def test_it_leaves_a_record_in_the_bin_while_something_still_points_at_it(db):
    parent = create_unit(name="Parent", by=None)
    child = create_unit(name="Child", parent=parent, by=None)
    _delete_at(parent, MONDAY - timedelta(days=60))
    _delete_at(child, MONDAY - timedelta(days=31))
    with pytest.raises(ProtectedError):
        OrgUnit.all_objects.get(pk=parent.pk).delete()

    with time_machine.travel(MONDAY, tick=False):
        # The parent comes first and is still the child's parent, so only the child goes...
        assert services.purge_expired() == 1
        # ...and the parent goes the next night.
        assert services.purge_expired() == 1

    assert not OrgUnit.all_objects.filter(pk__in=[parent.pk, child.pk]).exists()


def test_it_restores_a_unit_only_after_its_parent_unit(people):
    from tuoke.org.services import create_unit

    admin = people["admin"]
    parent = create_unit(name="展会组", by=admin)
    child = create_unit(name="春季展会", parent=parent, by=admin)
    services.soft_delete(child, by=admin)
    services.soft_delete(parent, by=admin)
    with pytest.raises(ValidationError) as caught:
        services.restore(child, by=admin)
    assert "parent" in caught.value.message_dict
    services.restore(parent, by=admin)
    services.restore(child, by=admin)
    assert OrgUnit.objects.filter(pk=child.pk).exists()
