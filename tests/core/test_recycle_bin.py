"""The recycle bin: deleted records in the user's delete scope, restore, and purge after the
retention period."""

from datetime import timedelta

import time_machine
from django.utils import timezone

from tuoke.core.models import AuditEntry, Scope
from tuoke.core.scope import recyclable_types
from tuoke.core.services import purge_date
from tuoke.org import services
from tuoke.org.models import OrgUnit, Role


def _bin_rows(response) -> int:
    return response.content.decode().count('data-testid="bin-row"')


def _deleted_unit(name, parent_name, by):
    unit = services.create_unit(name=name, parent=OrgUnit.objects.get(name=parent_name), by=by)
    services.delete_unit(unit, by=by)
    return unit


def _east_cleaner(people):
    """manager_east may delete (and so restore) units below his own group."""
    role = services.create_role(
        name="组织维护", grants={("org_unit", "delete"): Scope.SUBTREE}, by=people["admin"]
    )
    people["manager_east"].roles.add(role)
    return people["manager_east"]


def test_it_lists_deleted_records_of_every_type_for_the_admin(people, login):
    admin = people["admin"]
    unit = _deleted_unit("华东一组", "华东销售组", admin)
    role = Role.objects.get(name="市场专员")
    services.delete_role(role, by=admin)
    response = login(admin).get("/recycle-bin/")
    assert response.status_code == 200
    html = response.content.decode()
    assert _bin_rows(response) == 2
    assert f'data-record-type="org_unit" data-pk="{unit.pk}"' in html
    assert f'data-record-type="role" data-pk="{role.pk}"' in html
    assert "李管理" in html  # who deleted them
    assert timezone.localtime(purge_date(unit)).strftime("%Y-%m-%d") in html


def test_it_filters_by_record_type(people, login):
    admin = people["admin"]
    _deleted_unit("华东一组", "华东销售组", admin)
    services.delete_role(Role.objects.get(name="市场专员"), by=admin)
    response = login(admin).get("/recycle-bin/", {"type": "role"})
    assert _bin_rows(response) == 1


def test_it_shows_only_deleted_records_in_the_users_delete_scope(people, login):
    admin = people["admin"]
    mine = _deleted_unit("华东一组", "华东销售组", admin)
    theirs = _deleted_unit("华南一组", "华南销售组", admin)
    services.delete_role(Role.objects.get(name="市场专员"), by=admin)
    response = login(_east_cleaner(people)).get("/recycle-bin/")
    html = response.content.decode()
    assert _bin_rows(response) == 1
    assert f'data-pk="{mine.pk}"' in html
    assert f'data-pk="{theirs.pk}"' not in html
    assert 'data-testid="purge"' not in html


def test_it_shows_a_rep_an_empty_bin(people, login):
    _deleted_unit("华东一组", "华东销售组", people["admin"])
    response = login(people["rep_east1"]).get("/recycle-bin/")
    assert response.status_code == 200
    assert _bin_rows(response) == 0
    assert 'data-testid="empty-state"' in response.content.decode()


def test_it_gives_404_for_a_deleted_record_outside_the_scope(people, login):
    theirs = _deleted_unit("华南一组", "华南销售组", people["admin"])
    client = login(_east_cleaner(people))
    assert client.get(f"/recycle-bin/org_unit/{theirs.pk}/restore/").status_code == 404
    assert client.post(f"/recycle-bin/org_unit/{theirs.pk}/restore/").status_code == 404
    assert client.post(f"/recycle-bin/org_unit/{theirs.pk}/purge/").status_code == 404
    assert client.post(f"/recycle-bin/nothing/{theirs.pk}/restore/").status_code == 404
    assert OrgUnit.all_objects.get(pk=theirs.pk).is_deleted


def test_it_gives_404_for_a_record_that_is_not_deleted(people, login):
    east = OrgUnit.objects.get(name="华东销售组")
    response = login(people["admin"]).post(f"/recycle-bin/org_unit/{east.pk}/restore/")
    assert response.status_code == 404


def test_it_restores_after_confirmation(people, login):
    unit = _deleted_unit("华东一组", "华东销售组", people["admin"])
    client = login(_east_cleaner(people))
    page = client.get(f"/recycle-bin/org_unit/{unit.pk}/restore/")
    assert page.status_code == 200
    assert 'data-testid="confirm"' in page.content.decode()
    assert OrgUnit.all_objects.get(pk=unit.pk).is_deleted
    response = client.post(f"/recycle-bin/org_unit/{unit.pk}/restore/")
    assert response.status_code == 302
    assert response["Location"] == "/recycle-bin/"
    assert OrgUnit.objects.filter(pk=unit.pk).exists()
    assert AuditEntry.objects.filter(
        object_id=unit.pk, kind=AuditEntry.Kind.RESTORE, actor=people["manager_east"]
    ).exists()


def test_it_restores_a_role_and_its_grants_work_again(people, login):
    role = Role.objects.get(name="销售代表")
    services.delete_role(role, by=people["admin"])
    assert login(people["rep_east1"]).get("/org/units/").content.decode().count("unit-row") == 0
    login(people["admin"]).post(f"/recycle-bin/role/{role.pk}/restore/")
    assert login(people["rep_east1"]).get("/org/units/").content.decode().count("unit-row") == 1


def test_it_refuses_to_purge_before_the_retention_period(people, login):
    unit = _deleted_unit("华东一组", "华东销售组", people["admin"])
    client = login(people["admin"])
    assert 'data-testid="purge"' not in client.get("/recycle-bin/").content.decode()
    response = client.post(f"/recycle-bin/org_unit/{unit.pk}/purge/")
    assert response.status_code == 400
    assert 'data-field-error="deleted_at"' in response.content.decode()
    assert OrgUnit.all_objects.filter(pk=unit.pk).exists()


def test_it_purges_after_the_retention_period(people, login, settings):
    unit = _deleted_unit("华东一组", "华东销售组", people["admin"])
    later = timezone.now() + timedelta(days=settings.RECYCLE_BIN_RETENTION_DAYS, minutes=1)
    with time_machine.travel(later, tick=False):
        client = login(people["admin"])
        listing = client.get("/recycle-bin/").content.decode()
        assert f'href="/recycle-bin/org_unit/{unit.pk}/purge/"' in listing
        page = client.get(f"/recycle-bin/org_unit/{unit.pk}/purge/")
        assert 'data-testid="confirm"' in page.content.decode()
        response = client.post(f"/recycle-bin/org_unit/{unit.pk}/purge/")
    assert response.status_code == 302
    assert not OrgUnit.all_objects.filter(pk=unit.pk).exists()
    assert AuditEntry.objects.filter(object_id=unit.pk, kind=AuditEntry.Kind.PURGE).exists()


def test_it_lets_only_administrators_purge(people, login, settings):
    unit = _deleted_unit("华东一组", "华东销售组", people["admin"])
    cleaner = _east_cleaner(people)
    later = timezone.now() + timedelta(days=settings.RECYCLE_BIN_RETENTION_DAYS + 1)
    with time_machine.travel(later, tick=False):
        client = login(cleaner)
        assert 'data-testid="purge"' not in client.get("/recycle-bin/").content.decode()
        assert client.post(f"/recycle-bin/org_unit/{unit.pk}/purge/").status_code == 404
    assert OrgUnit.all_objects.filter(pk=unit.pk).exists()


def test_it_paginates_in_constant_queries(people, login, settings, django_assert_max_num_queries):
    admin = people["admin"]
    for i in range(20):
        _deleted_unit(f"临时组{i:02d}", "总经办", admin)
    for i in range(12):
        role = services.create_role(name=f"临时角色{i:02d}", grants={}, by=admin)
        services.delete_role(role, by=admin)
    client = login(admin)
    # Constant in the number of records: a count and a key query per record type, plus the
    # page's own (session, user, grants, the rows of the types shown).
    budget = 6 + 2 * len(recyclable_types())
    with django_assert_max_num_queries(budget):
        first = client.get("/recycle-bin/")
    assert _bin_rows(first) == settings.LIST_PAGE_SIZE
    assert 'data-testid="pagination"' in first.content.decode()
    with django_assert_max_num_queries(budget):
        second = client.get("/recycle-bin/?page=2")
    assert _bin_rows(second) == 32 - settings.LIST_PAGE_SIZE
    first_keys = {line for line in first.content.decode().splitlines() if "bin-row" in line}
    second_keys = {line for line in second.content.decode().splitlines() if "bin-row" in line}
    assert not first_keys & second_keys


def test_it_refuses_to_restore_a_record_whose_place_is_taken_again(people, login):
    """One exchange rate per currency and day among living rows: the deleted rate cannot come
    back once another took its day, and the page says so instead of failing."""
    from datetime import date
    from decimal import Decimal

    from tuoke.core.models import ExchangeRate

    day = date(2026, 11, 2)
    old = ExchangeRate.objects.create(currency="USD", valid_on=day, rate=Decimal("7.1"))
    ExchangeRate.objects.filter(pk=old.pk).update(deleted_at=timezone.now())
    ExchangeRate.objects.create(currency="USD", valid_on=day, rate=Decimal("7.2"))
    response = login(people["admin"]).post(f"/recycle-bin/exchange_rate/{old.pk}/restore/")
    assert response.status_code in (200, 400)
    assert "cannot come back" in response.content.decode()
    assert ExchangeRate.all_objects.get(pk=old.pk).is_deleted
    assert ExchangeRate.objects.get(currency="USD", valid_on=day).rate == Decimal("7.2")
