"""The user pages: the list with search, filters, sorting and pages, inviting, editing,
deactivating and reactivating."""

import pytest
from django.core import mail

from tuoke.core.models import AuditEntry
from tuoke.org import services
from tuoke.org.models import OrgUnit, Role, User


@pytest.fixture
def crowd(people):
    """Thirty-five more sales reps in the east group, so lists span pages."""
    east = OrgUnit.objects.get(name="华东销售组")
    rep = Role.objects.get(name="销售代表")
    for i in range(35):
        services.invite_user(
            username=f"east{i:02d}",
            display_name=f"东{i:02d}",
            email=f"east{i:02d}@demo.tuoke.local",
            mobile=f"1380013{i:04d}",
            unit=east,
            roles=[rep],
            password="x-Long-password-1",
            by=None,
        )
    return people


def _rows(response) -> int:
    return response.content.decode().count('data-testid="user-row"')


def test_it_lists_every_user_for_the_admin(people, login):
    response = login(people["admin"]).get("/org/users/")
    assert response.status_code == 200
    assert _rows(response) == User.objects.count()
    assert 'data-testid="user-invite"' in response.content.decode()


def test_it_lists_a_page_in_constant_queries(crowd, login, settings, django_assert_max_num_queries):
    client = login(crowd["admin"])
    with django_assert_max_num_queries(9):
        response = client.get("/org/users/")
    assert _rows(response) == settings.LIST_PAGE_SIZE
    with django_assert_max_num_queries(9):
        response = client.get("/org/users/?page=2&sort=-unit&status=active&q=东")
    assert _rows(response) == 35 - settings.LIST_PAGE_SIZE


def test_it_paginates(crowd, login, settings):
    client = login(crowd["admin"])
    total = User.objects.count()
    first = client.get("/org/users/").content.decode()
    assert 'data-testid="pagination"' in first
    assert _rows(client.get("/org/users/?page=2")) == total - settings.LIST_PAGE_SIZE
    # A page number past the end shows the last page.
    assert _rows(client.get("/org/users/?page=99")) == total - settings.LIST_PAGE_SIZE


@pytest.mark.parametrize(
    ("query", "expected"),
    [("rep_south1", "黄敏"), ("王经理", "manager_east"), ("finance1@demo", "吴会计")],
)
def test_it_searches_name_username_and_email(people, login, query, expected):
    response = login(people["admin"]).get("/org/users/", {"q": query})
    assert _rows(response) == 1
    assert expected in response.content.decode()


def test_it_searches_mobile(crowd, login):
    response = login(crowd["admin"]).get("/org/users/", {"q": "13800130007"})
    assert _rows(response) == 1
    assert 'data-username="east07"' in response.content.decode()


def test_it_filters_by_unit_with_the_units_below(people, login):
    sales = OrgUnit.objects.get(name="销售部")
    response = login(people["admin"]).get("/org/users/", {"unit": sales.pk})
    # The director, two managers and four reps.
    assert _rows(response) == 7


def test_it_filters_by_role_and_status(people, login):
    rep = Role.objects.get(name="销售代表")
    services.deactivate_user(people["rep_south2"], by=people["admin"])
    client = login(people["admin"])
    assert _rows(client.get("/org/users/", {"role": rep.pk})) == 4
    assert _rows(client.get("/org/users/", {"role": rep.pk, "status": "active"})) == 3
    deactivated = client.get("/org/users/", {"status": "deactivated"})
    assert _rows(deactivated) == 1
    assert 'data-username="rep_south2"' in deactivated.content.decode()


def test_it_sorts(people, login):
    client = login(people["admin"])
    html = client.get("/org/users/", {"sort": "-username"}).content.decode()
    assert html.index('data-username="rep_south2"') < html.index('data-username="admin"')
    html = client.get("/org/users/", {"sort": "username"}).content.decode()
    assert html.index('data-username="admin"') < html.index('data-username="rep_south2"')


def test_it_says_so_when_nothing_matches(people, login):
    response = login(people["admin"]).get("/org/users/", {"q": "nobody-here"})
    assert 'data-testid="empty-state"' in response.content.decode()


def test_it_shows_a_rep_only_his_unit(people, login):
    response = login(people["rep_east1"]).get("/org/users/")
    html = response.content.decode()
    assert _rows(response) == 3
    assert "黄敏" not in html
    assert 'data-testid="user-invite"' not in html


def test_it_shows_a_user_with_roles_unit_and_history(people, login):
    person = people["rep_east1"]
    response = login(people["admin"]).get(f"/org/users/{person.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "销售代表" in html and "华东销售组" in html
    assert 'data-testid="audit-trail"' in html
    assert 'data-testid="user-deactivate"' in html


def test_it_shows_a_colleague_to_a_rep_without_the_history(people, login):
    response = login(people["rep_east1"]).get(f"/org/users/{people['rep_east2'].pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "刘洋" in html
    assert 'data-testid="audit-trail"' not in html
    assert 'data-testid="user-edit"' not in html


def test_it_gives_a_rep_404_for_a_user_outside_his_scope(people, login):
    other = people["rep_south1"]
    client = login(people["rep_east1"])
    assert client.get(f"/org/users/{other.pk}/").status_code == 404
    assert client.get(f"/org/users/{other.pk}/edit/").status_code == 404
    assert client.post(f"/org/users/{other.pk}/deactivate/").status_code == 404
    assert client.post(f"/org/users/{other.pk}/reactivate/").status_code == 404
    assert client.get("/org/users/999999/").status_code == 404


def test_it_refuses_a_rep_the_write_pages(people, login):
    colleague = people["rep_east2"]
    client = login(people["rep_east1"])
    assert client.get("/org/users/invite/").status_code == 403
    assert client.post("/org/users/invite/", {"username": "x"}).status_code == 403
    assert client.get(f"/org/users/{colleague.pk}/edit/").status_code == 403
    assert client.post(f"/org/users/{colleague.pk}/deactivate/").status_code == 403
    colleague.refresh_from_db()
    assert colleague.is_active


def test_it_invites_a_user_with_an_emailed_link(people, login, django_capture_on_commit_callbacks):
    east = OrgUnit.objects.get(name="华东销售组")
    rep = Role.objects.get(name="销售代表")
    client = login(people["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/org/users/invite/",
            {
                "username": "rep_east3",
                "display_name": "何静",
                "email": "hejing@demo.tuoke.local",
                "mobile": "13900139000",
                "title": "销售代表",
                "unit": east.pk,
                "roles": [rep.pk],
            },
        )
    person = User.objects.get(username="rep_east3")
    assert response.status_code == 302
    assert response["Location"] == f"/org/users/{person.pk}/"
    assert person.unit == east
    assert list(person.roles.all()) == [rep]
    assert not person.has_usable_password()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["hejing@demo.tuoke.local"]
    assert "/password/set/" in mail.outbox[0].body
    assert AuditEntry.objects.filter(object_id=person.pk, kind=AuditEntry.Kind.CREATE).exists()


def test_it_invites_a_user_with_an_initial_password(people, login, client):
    response = login(people["admin"]).post(
        "/org/users/invite/",
        {"username": "temp1", "display_name": "临时工", "password": "Tuoke-initial-2026"},
    )
    assert response.status_code == 302
    assert mail.outbox == []
    assert client.login(username="temp1", password="Tuoke-initial-2026")


def test_it_names_the_fields_of_a_bad_invitation(people, login):
    response = login(people["admin"]).post(
        "/org/users/invite/", {"username": "rep_east1", "display_name": "", "email": "nope"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-field-error="display_name"' in html
    assert 'data-field-error="email"' in html


def test_it_refuses_a_taken_username_on_the_field(people, login):
    response = login(people["admin"]).post(
        "/org/users/invite/",
        {"username": "REP_EAST1", "display_name": "重名", "email": "x@demo.tuoke.local"},
    )
    assert response.status_code == 200
    assert 'data-field-error="username"' in response.content.decode()


def test_it_asks_for_an_email_or_a_password(people, login):
    response = login(people["admin"]).post(
        "/org/users/invite/", {"username": "nomail", "display_name": "无邮箱"}
    )
    assert response.status_code == 200
    assert 'data-field-error="email"' in response.content.decode()
    assert not User.objects.filter(username="nomail").exists()


def _edit_data(person, **changes):
    data = {
        "username": person.username,
        "display_name": person.display_name,
        "email": person.email,
        "mobile": person.mobile,
        "title": person.title,
        "unit": person.unit_id or "",
        "roles": [r.pk for r in person.roles.all()],
        "version": person.version,
    }
    data.update(changes)
    return data


def test_it_edits_a_user(people, login):
    person = people["rep_east1"]
    south = OrgUnit.objects.get(name="华南销售组")
    manager = Role.objects.get(name="销售经理")
    response = login(people["admin"]).post(
        f"/org/users/{person.pk}/edit/",
        _edit_data(person, unit=south.pk, roles=[manager.pk], title="销售经理"),
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.unit == south
    assert person.title == "销售经理"
    assert list(person.roles.all()) == [manager]
    entry = AuditEntry.objects.filter(object_id=person.pk, kind=AuditEntry.Kind.UPDATE).first()
    assert {c["field"] for c in entry.changes} >= {"unit", "title", "roles"}


def test_it_refuses_a_stale_user_edit(people, login):
    person = people["rep_east1"]
    form = _edit_data(person, title="组长")
    services.update_user(person, by=people["admin"], title="高级销售代表")
    response = login(people["admin"]).post(f"/org/users/{person.pk}/edit/", form)
    assert response.status_code == 200
    assert "changed by someone else" in response.content.decode()
    person.refresh_from_db()
    assert person.title == "高级销售代表"


def test_it_deactivates_after_confirmation(people, login, client):
    person = people["rep_east1"]
    _token, raw = services.create_token(user=person, name="ERP")
    admin = login(people["admin"])
    page = admin.get(f"/org/users/{person.pk}/deactivate/")
    assert page.status_code == 200
    assert 'data-testid="confirm"' in page.content.decode()
    person.refresh_from_db()
    assert person.is_active
    response = admin.post(f"/org/users/{person.pk}/deactivate/")
    assert response.status_code == 302
    person.refresh_from_db()
    assert not person.is_active
    assert not client.login(username="rep_east1", password="tuoke-demo")
    api = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.status_code == 401
    assert AuditEntry.objects.filter(
        object_id=person.pk, kind=AuditEntry.Kind.UPDATE, changes__icontains="is_active"
    ).exists()


def test_it_ends_the_session_of_a_deactivated_user(people, login):
    person = people["rep_east1"]
    session = login(person)
    assert session.get("/org/units/").status_code == 200
    login(people["admin"]).post(f"/org/users/{person.pk}/deactivate/")
    assert session.get("/org/units/").status_code == 302


def test_it_reactivates(people, login, client):
    person = people["rep_east1"]
    services.deactivate_user(person, by=people["admin"])
    response = login(people["admin"]).post(f"/org/users/{person.pk}/reactivate/")
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.is_active
    assert client.login(username="rep_east1", password="tuoke-demo")


def test_it_refuses_to_deactivate_oneself(people, login):
    admin = people["admin"]
    response = login(admin).post(f"/org/users/{admin.pk}/deactivate/")
    assert response.status_code == 400
    assert 'data-field-error="is_active"' in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active
