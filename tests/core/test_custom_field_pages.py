"""The administrator pages of custom fields: list, create, edit and delete."""

import pytest

from tuoke.core import custom_fields as cf
from tuoke.core.models import AuditEntry, CustomField

Kind = CustomField.Kind


@pytest.fixture
def customer(monkeypatch):
    monkeypatch.setitem(cf.CUSTOM_FIELD_TARGETS, "customer", "customers")
    return "customer"


@pytest.fixture
def erp_number(people, customer):
    return cf.create_custom_field(
        target="customer", key="erp_number", label="ERP 编号", kind=Kind.TEXT, by=people["admin"]
    )


def _form(**values):
    data = {
        "target": "customer",
        "key": "segment",
        "label": "行业细分",
        "kind": "choice",
        "choices": "制造\n零售\n",
        "help_text": "",
        "sort_order": "0",
    }
    data.update(values)
    return data


def test_it_lists_the_fields_grouped_by_record_type_in_constant_queries(
    people, login, customer, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setitem(cf.CUSTOM_FIELD_TARGETS, "contact", "contacts")
    for i in range(20):
        for target in ("customer", "contact"):
            cf.create_custom_field(
                target=target,
                key=f"field_{i:02d}",
                label=f"字段 {i:02d}",
                kind=Kind.MULTI_CHOICE,
                choices=["A", "B"],
                sort_order=20 - i,
                by=None,
            )
    client = login(people["admin"])
    with django_assert_max_num_queries(8):
        response = client.get("/settings/custom-fields/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="custom-field-group"') == 2
    assert html.count('data-testid="custom-field-row"') == 40
    assert html.index('data-target="contact"') < html.index('data-target="customer"')
    # In their order within a record type.
    assert html.index("字段 19") < html.index("字段 00")
    assert 'data-testid="custom-field-create"' in html


def test_it_shows_an_empty_state(people, login, customer):
    html = login(people["admin"]).get("/settings/custom-fields/").content.decode()
    assert 'data-testid="empty-state"' in html
    assert 'data-testid="no-targets"' not in html


def test_it_says_when_no_record_type_accepts_custom_fields(people, login, monkeypatch):
    monkeypatch.setattr(cf, "accepts_custom_fields", dict)
    html = login(people["admin"]).get("/settings/custom-fields/").content.decode()
    assert 'data-testid="no-targets"' in html
    assert 'data-testid="custom-field-create"' not in html


def test_it_shows_the_menu_entry_to_administrators_only(people, login):
    assert "/settings/custom-fields/" in login(people["admin"]).get("/").content.decode()
    assert "/settings/custom-fields/" not in login(people["rep_east1"]).get("/").content.decode()


def test_it_creates_a_field(people, login, customer):
    response = login(people["admin"]).post(
        "/settings/custom-fields/new/", _form(required="on", show_in_list="on")
    )
    assert response.status_code == 302
    assert response["Location"] == "/settings/custom-fields/"
    field = CustomField.objects.get(key="segment")
    assert (field.target, field.kind, field.choices) == ("customer", "choice", ["制造", "零售"])
    assert field.required and field.show_in_list
    assert field.created_by == people["admin"]


def test_it_preselects_the_record_type_from_the_list(people, login, customer):
    html = login(people["admin"]).get("/settings/custom-fields/new/?target=customer").content
    assert '<option value="customer" selected>' in html.decode()


def test_it_shows_each_refusal_on_its_field(people, login, customer, erp_number):
    client = login(people["admin"])
    cases = [
        (_form(key="Bad Key"), "key"),
        (_form(key="erp_number"), "key"),
        (_form(choices=""), "choices"),
        (_form(target="spaceship"), "target"),
        (_form(label=""), "label"),
    ]
    for data, name in cases:
        response = client.post("/settings/custom-fields/new/", data)
        assert response.status_code == 200, name
        assert f'data-field-error="{name}"' in response.content.decode(), name
    assert CustomField.objects.count() == 1


def test_it_edits_a_field_but_not_its_record_type_key_or_kind(people, login, erp_number):
    client = login(people["admin"])
    url = f"/settings/custom-fields/{erp_number.pk}/edit/"
    html = client.get(url).content.decode()
    assert 'data-testid="fixed-explanation"' in html
    assert 'data-testid="audit-trail"' in html
    assert html.count("disabled") >= 3
    response = client.post(
        url,
        _form(key="hacked", kind="number", label="ERP 号", choices="", version=erp_number.version),
    )
    assert response.status_code == 302
    erp_number.refresh_from_db()
    assert (erp_number.key, erp_number.kind, erp_number.label) == ("erp_number", "text", "ERP 号")
    assert erp_number.version == 2
    html = client.get(url).content.decode()
    assert 'data-kind="update"' in html


def test_it_refuses_a_stale_edit(people, login, erp_number):
    client = login(people["admin"])
    cf.update_custom_field(erp_number, by=None, label="别人改过")
    response = client.post(
        f"/settings/custom-fields/{erp_number.pk}/edit/", _form(label="我的修改", version=1)
    )
    assert response.status_code == 200
    assert "alert-danger" in response.content.decode()
    erp_number.refresh_from_db()
    assert erp_number.label == "别人改过"


def test_it_deletes_a_field_into_the_recycle_bin(people, login, erp_number):
    client = login(people["admin"])
    url = f"/settings/custom-fields/{erp_number.pk}/delete/"
    assert 'data-testid="confirm-form"' in client.get(url).content.decode()
    response = client.post(url)
    assert response.status_code == 302
    assert not CustomField.objects.filter(pk=erp_number.pk).exists()
    assert CustomField.all_objects.get(pk=erp_number.pk).deleted_by == people["admin"]
    assert client.get(f"/settings/custom-fields/{erp_number.pk}/edit/").status_code == 404
    assert AuditEntry.objects.filter(object_id=erp_number.pk, kind="delete").exists()
    bin_html = client.get("/recycle-bin/?type=custom_field").content.decode()
    assert "ERP 编号" in bin_html


def test_it_restores_a_field_from_the_recycle_bin(people, login, erp_number):
    client = login(people["admin"])
    cf.delete_custom_field(erp_number, by=people["admin"])
    response = client.post(f"/recycle-bin/custom_field/{erp_number.pk}/restore/")
    assert response.status_code == 302
    assert [f.key for f in cf.fields_for("customer")] == ["erp_number"]


def test_it_refuses_the_pages_to_a_rep(people, login, erp_number):
    client = login(people["rep_east1"])
    assert client.get("/settings/custom-fields/").status_code == 403
    assert client.get("/settings/custom-fields/new/").status_code == 403
    assert client.post("/settings/custom-fields/new/", _form()).status_code == 403
    assert client.get(f"/settings/custom-fields/{erp_number.pk}/edit/").status_code == 404
    assert client.post(f"/settings/custom-fields/{erp_number.pk}/edit/", _form()).status_code == 404
    assert client.post(f"/settings/custom-fields/{erp_number.pk}/delete/").status_code == 404
    assert CustomField.objects.filter(pk=erp_number.pk, label="ERP 编号").exists()
    assert not CustomField.objects.filter(key="segment").exists()


def test_it_sends_anonymous_users_to_the_login_page(client, erp_number):
    for url in ("/settings/custom-fields/", f"/settings/custom-fields/{erp_number.pk}/edit/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")
