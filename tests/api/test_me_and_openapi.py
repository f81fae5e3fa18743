"""GET /me, and the published OpenAPI schema and docs."""

from django.test import Client

from .conftest import API


def test_it_shows_me_with_unit_roles_and_effective_grants(api_as, rep_east):
    body = api_as(rep_east).get("/me").json()
    assert body["display_name"] == "张伟"
    assert body["unit"]["name"] == "华东销售组"
    assert [r["name"] for r in body["roles"]] == ["销售代表"]
    grants = {(g["record_type"], g["action"]): g["scope"] for g in body["grants"]}
    assert grants[("user", "view")] == "unit"
    assert grants[("role", "view")] == "own"
    assert ("user", "edit") not in grants


def test_it_shows_the_widest_scope_over_all_roles(api_as, admin_user, manager_east):
    from tuoke.org import services
    from tuoke.org.models import Role

    boss_role = Role.objects.get(name="总经理")
    services.update_user(manager_east, by=admin_user, roles=[*manager_east.roles.all(), boss_role])
    grants = {
        (g["record_type"], g["action"]): g["scope"]
        for g in api_as(manager_east).get("/me").json()["grants"]
    }
    assert grants[("user", "view")] == "all"
    assert grants[("user", "export")] == "all"


def test_it_publishes_the_openapi_schema(db):
    response = Client().get(f"{API}/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = set(schema["paths"])
    assert {
        f"{API}/me",
        f"{API}/users",
        f"{API}/users/{{user_id}}",
        f"{API}/users/{{user_id}}/deactivate",
        f"{API}/users/{{user_id}}/reactivate",
        f"{API}/org-units",
        f"{API}/org-units/{{unit_id}}",
        f"{API}/roles",
        f"{API}/roles/{{role_id}}",
    } <= paths
    schemes = schema["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}
    errors = schema["paths"][f"{API}/users"]["post"]["responses"]
    assert {"400", "401", "403", "404", "409", "429"} <= set(errors)
    assert "ErrorOut" in schema["components"]["schemas"]
    listed = schema["paths"][f"{API}/users"]["get"]
    params = {p["name"] for p in listed["parameters"]}
    assert {"page", "page_size", "unit", "is_active", "q", "sort"} <= params


def test_it_serves_the_docs_page(db):
    response = Client().get(f"{API}/docs")
    assert response.status_code == 200
    assert b"openapi.json" in response.content
