"""The audit trail partial on record pages: who, when, what changed from what to what."""

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.test import RequestFactory

from tuoke.core.views import AUDIT_PAGE_SIZE, audit_trail
from tuoke.org import services
from tuoke.org.models import OrgUnit, Role


def _trail(html: str) -> str:
    return html[html.index('data-testid="audit-trail"') :]


def test_it_shows_who_when_and_each_change_with_the_old_value_struck_through(people, login):
    east = OrgUnit.objects.get(name="华东销售组")
    # 06:03 UTC is 14:03 in Shanghai, the users' zone.
    with time_machine.travel(datetime(2026, 11, 22, 6, 3, tzinfo=ZoneInfo("UTC")), tick=False):
        services.update_unit(east, by=people["director"], name="华东大区")
    html = _trail(login(people["admin"]).get(f"/org/units/{east.pk}/").content.decode())
    assert "2026-11-22 14:03" in html
    assert "孙总监" in html
    assert 'data-kind="update"' in html
    old = '<span class="audit-old">华东销售组</span>'
    new = '<span class="audit-new">华东大区</span>'
    assert f"{old} → {new}" in html
    assert 'data-field="name"' in html


def test_it_shows_the_history_on_the_user_page(people, login):
    person = people["rep_east1"]
    services.update_user(person, by=people["admin"], title="高级销售代表")
    html = _trail(login(people["admin"]).get(f"/org/users/{person.pk}/").content.decode())
    assert '<span class="audit-old">销售代表</span>' in html
    assert "高级销售代表" in html
    assert 'data-kind="create"' in html


def test_it_shows_the_person_his_own_history(people, login):
    person = people["rep_east1"]
    html = login(person).get(f"/org/users/{person.pk}/").content.decode()
    assert 'data-testid="audit-trail"' in html


def test_it_shows_the_history_on_the_role_page(people, login):
    role = Role.objects.get(name="销售代表")
    services.update_role(role, by=people["admin"], grants={("user", "view"): 1})
    html = _trail(login(people["admin"]).get(f"/org/roles/{role.pk}/").content.decode())
    assert 'data-field="grants"' in html
    assert "user.view=1" in html


def test_it_pages_a_long_history(people, login):
    east = OrgUnit.objects.get(name="华东销售组")
    for i in range(AUDIT_PAGE_SIZE + 5):
        services.update_unit(east, by=people["admin"], sort_order=i + 1)
    client = login(people["admin"])
    first = _trail(client.get(f"/org/units/{east.pk}/").content.decode())
    assert first.count('data-testid="audit-entry"') == AUDIT_PAGE_SIZE
    assert 'data-testid="audit-more"' in first
    older = _trail(client.get(f"/org/units/{east.pk}/?audit_page=2").content.decode())
    assert 0 < older.count('data-testid="audit-entry"') <= 7
    assert 'data-kind="create"' in older


def test_it_gives_later_apps_a_helper_newest_first(people):
    east = OrgUnit.objects.get(name="华东销售组")
    services.update_unit(east, by=people["admin"], name="华东大区")
    page = audit_trail(RequestFactory().get("/"), east)
    entries = list(page.object_list)
    assert entries[0].kind == "update"
    assert entries[0].shown_changes[0]["label"] == "name"
    assert entries[-1].kind == "create"


def test_it_costs_the_same_queries_however_long_the_history(
    people, login, django_assert_max_num_queries
):
    east = OrgUnit.objects.get(name="华东销售组")
    for i in range(AUDIT_PAGE_SIZE + 5):
        services.update_unit(east, by=people["rep_east1" if i % 2 else "admin"], sort_order=i)
    client = login(people["admin"])
    with django_assert_max_num_queries(12):
        client.get(f"/org/units/{east.pk}/")
