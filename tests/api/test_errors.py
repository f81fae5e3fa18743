"""Every 4xx has one body: {"detail", "code", "errors": [{"field", "message", "code"}]}."""

import pytest
from django.test import Client

from tuoke.org.models import OrgUnit, Role

from .conftest import API, assert_error


@pytest.fixture
def admin_api(api_as, admin_user):
    return api_as(admin_user)


def test_it_names_a_missing_body_field(admin_api):
    body = assert_error(
        admin_api.post("/users", {"display_name": "钱进"}), 400, "username", "required"
    )
    assert body["errors"][0]["message"] == "This field is required."


def test_it_names_a_wrong_type_by_its_path(admin_api):
    assert_error(admin_api.post("/users", {"username": 5, "display_name": "钱进"}), 400, "username")
    assert_error(
        admin_api.post("/users", {"username": "a", "display_name": "b", "role_ids": ["x"]}),
        400,
        "role_ids.0",
    )


def test_it_names_a_nested_field_of_a_list(admin_api):
    payload = {
        "name": "区域经理",
        "grants": [{"record_type": "user", "action": "view", "scope": "far"}],
    }
    assert_error(admin_api.post("/roles", payload), 400, "grants.0.scope")
    payload["grants"][0].update(scope="all", record_type="spaceship")
    body = assert_error(admin_api.post("/roles", payload), 400, "grants.0.record_type")
    assert "spaceship" in body["errors"][0]["message"]


def test_it_names_a_bad_query_parameter(admin_api):
    assert_error(admin_api.get("/users", {"page_size": 0}), 400, "page_size")
    assert_error(admin_api.get("/users", {"sort": "password"}), 400, "sort")
    assert_error(admin_api.get("/users", {"is_active": "perhaps"}), 400, "is_active")


def test_it_names_a_bad_path_parameter(admin_api):
    assert_error(admin_api.get("/users/abc"), 400, "user_id")
    assert_error(admin_api.get(f"/users/{2**70}"), 400, "user_id")


def test_it_answers_400_for_a_body_that_is_not_json(admin_api):
    body = assert_error(admin_api.post("/org-units", "{not json"), 400)
    assert body["code"] == "parse_error"
    assert_error(admin_api.post("/org-units", "[1, 2]"), 400)
    assert_error(admin_api.post("/org-units", "null"), 400)


def test_it_answers_400_for_null_characters(admin_api):
    assert_error(admin_api.post("/org-units", {"name": "a\x00b"}), 400, "name")


def test_it_turns_service_validation_errors_into_400(admin_api):
    body = assert_error(
        admin_api.post("/users", {"username": "rep_east1", "display_name": "x"}),
        400,
        "username",
        "duplicate",
    )
    assert body["detail"] == "This username is already taken."
    assert_error(admin_api.post("/users", {"username": "x" * 151, "display_name": "x"}), 400)
    assert_error(
        admin_api.post("/users", {"username": "new", "display_name": "x", "email": "nope"}),
        400,
        "email",
    )


def test_it_answers_400_naming_the_field_for_unknown_ids_in_a_payload(admin_api):
    payload = {"username": "new", "display_name": "x", "unit_id": 999999}
    assert_error(admin_api.post("/users", payload), 400, "unit_id", "invalid")
    payload = {"username": "new", "display_name": "x", "role_ids": [999999]}
    assert_error(admin_api.post("/users", payload), 400, "role_ids", "invalid")
    assert_error(admin_api.post("/org-units", {"name": "x", "parent_id": 999999}), 400, "parent_id")


def test_it_refuses_null_for_a_field_that_cannot_be_empty(admin_api):
    role = Role.objects.get(name="销售代表")
    body = {"version": role.version, "name": None}
    assert_error(admin_api.patch(f"/roles/{role.pk}", body), 400, "name", "required")


def test_it_answers_404_with_an_empty_error_list(admin_api):
    body = assert_error(admin_api.get("/users/999999"), 404)
    assert body["errors"] == []
    assert body["code"] == "not_found"


def test_it_answers_409_for_a_stale_version(admin_api):
    unit = OrgUnit.objects.get(name="华东销售组")
    body = assert_error(
        admin_api.patch(f"/org-units/{unit.pk}", {"version": unit.version - 1, "name": "x"}),
        409,
        "version",
        "stale_version",
    )
    assert body["code"] == "stale_version"
    unit.refresh_from_db()
    assert unit.name == "华东销售组"


def test_it_answers_403_for_a_visible_record_he_may_not_change(api_as, rep_east, rep_east2):
    body = assert_error(
        api_as(rep_east).patch(f"/users/{rep_east2.pk}", {"version": 1, "title": "x"}), 403
    )
    assert body["code"] == "permission_denied"


def test_it_answers_401_in_the_common_format(db):
    body = assert_error(Client().get(f"{API}/me"), 401)
    assert body["code"] == "not_authenticated"


def test_it_answers_in_the_users_language(api_as, admin_user):
    api = api_as(admin_user)
    body = assert_error(
        api.post("/users", {"display_name": "钱进"}, **{"Accept-Language": "zh-hans"}),
        400,
        "username",
    )
    assert body["errors"][0]["message"] == "这个字段是必填项。"


def test_it_answers_unknown_paths_and_methods_in_the_common_format(admin_api, anonymous_api):
    assert_error(admin_api.get("/nothing-here"), 404)
    assert_error(anonymous_api.post("/nothing/here", {}), 404)
    response = admin_api.client.put(f"{API}/users")
    body = assert_error(response, 405)
    assert body["code"] == "method_not_allowed"
    assert "POST" in response["Allow"]
