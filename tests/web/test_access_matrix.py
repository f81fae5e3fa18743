"""The access matrix: every page and every API route refuses anonymous users, and answers 404
to a user asking for a record outside his data scope.

A new URL pattern or API route that takes a record id must be added to OUT_OF_SCOPE below
(how to find a record ``rep_east1`` may not know of); otherwise these tests fail.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from tests.activities import plan_records
from tests.activities import records as activity_records
from tests.contracts import access as contracts_access
from tests.integrations import access as notifications_access
from tests.leads import access as leads_access
from tests.sales import access as sales_access
from tuoke.api import api

# Pages anyone may open without logging in.
PUBLIC_PAGES = {
    "login",
    "logout",
    "password_reset_confirm",
    "password_reset_complete",
    "set_language",
    "api-1.0.0:openapi-json",
    "api-1.0.0:openapi-view",
}
# Django's own admin guards itself (staff only) and is for operators, not users.
SKIPPED_NAMESPACES = {"admin"}


def _south_unit(people):
    return people["rep_south1"].unit


def _boss_role(people):
    return people["boss"].roles.get()


def _deleted_role(people):
    """A role in the recycle bin past retention (made once per test); reps may not touch it."""
    from tuoke.core.services import soft_delete
    from tuoke.org.models import Role
    from tuoke.org.services import create_role

    existing = Role.all_objects.filter(name="临时角色").first()
    if existing is not None:
        return existing
    role = create_role(name="临时角色", grants={}, by=people["admin"])
    soft_delete(role, by=people["admin"])
    type(role).all_objects.filter(pk=role.pk).update(deleted_at=timezone.now() - timedelta(days=90))
    return role


def _custom_field(people):
    """A definition every role may view; its pages are for administrators, so a rep gets 404."""
    from tuoke.core.models import CustomField

    field, _created = CustomField.objects.get_or_create(
        target="customer", key="erp_number", defaults={"label": "ERP 编号"}
    )
    return field


def _south_customer(people):
    """A customer of 华南销售组 with one contact (made once per test)."""
    from tuoke.customers.models import Customer
    from tuoke.customers.services import create_customer

    existing = Customer.objects.filter(short_name="南方客户").first()
    return existing or create_customer(
        by=people["rep_south1"], short_name="南方客户", contacts=[{"name": "陈先生"}]
    )


def _south_access_request(people):
    """rep_east2 asks for 华南's customer; only its owner's side may answer."""
    from tuoke.customers.models import AccessRequest
    from tuoke.customers.services import request_access

    customer = _south_customer(people)
    existing = AccessRequest.objects.filter(customer=customer).first()
    return existing or request_access(customer, by=people["rep_east2"])


def _south_access_request(people):
    """rep_south2 asks for rep_south1's customer: rep_east1 may decide nothing about it."""
    from tuoke.customers.models import AccessRequest

    customer = _south_customer(people)
    existing = AccessRequest.objects.filter(customer=customer).first()
    return existing or AccessRequest.objects.create(
        customer=customer, requester=people["rep_south2"]
    )


def _someone_elses_token(people):
    from tuoke.org.services import create_token

    token, _raw = create_token(user=people["rep_south1"], name="south")
    return token


def _south_saved_view(people):
    """A saved view rep_south1 shares with his team (华南销售组), not with rep_east1's."""
    from tuoke.core.models import SavedView
    from tuoke.core.saved_views import save_view

    existing = SavedView.objects.filter(name="华南意向").first()
    return existing or save_view(
        by=people["rep_south1"], list_key="customers", name="华南意向", query="", shared=True
    )


def _each(names: tuple[str, ...], params: dict[str, Callable]) -> dict[str, dict]:
    return dict.fromkeys(names, params)  # the same read-only params for each name


# URL name or API path → (kwarg name → function(people) returning an out-of-scope record's pk)
OUT_OF_SCOPE: dict[str, dict[str, Callable]] = {
    "token_revoke": {"pk": lambda p: _someone_elses_token(p).pk},
    **_each(
        ("org:unit_detail", "org:unit_edit", "org:unit_delete"),
        {"pk": lambda p: _south_unit(p).pk},
    ),
    **_each(
        (
            "org:user_detail",
            "org:user_edit",
            "org:user_deactivate",
            "org:user_reactivate",
            "org:user_handover",
        ),
        {"pk": lambda p: p["rep_south1"].pk},
    ),
    **_each(
        ("org:role_detail", "org:role_edit", "org:role_delete"),
        {"pk": lambda p: _boss_role(p).pk},
    ),
    **_each(
        ("core:restore", "core:purge"),
        {"record_type": lambda p: "role", "pk": lambda p: _deleted_role(p).pk},
    ),
    **_each(
        ("custom_fields:edit", "custom_fields:delete"),
        {"pk": lambda p: _custom_field(p).pk},
    ),
    **_each(
        (
            "/api/v1/customers/{customer_id}",
            "/api/v1/customers/{customer_id}/merge",
            "/api/v1/customers/{customer_id}/contacts",
            "/api/v1/customers/{customer_id}/timeline",
        ),
        {"customer_id": lambda p: _south_customer(p).pk},
    ),
    "/api/v1/access-requests/{request_id}/decide": {
        "request_id": lambda p: _south_access_request(p).pk
    },
    "/api/v1/contacts/{contact_id}": {"contact_id": lambda p: _south_customer(p).contacts.get().pk},
    **_each(
        (
            "customers:customer_detail",
            "customers:customer_edit",
            "customers:customer_delete",
            "customers:customer_tags",
            "customers:customer_lifecycle",
            "customers:customer_collaborators",
            "customers:customer_merge",
            "customers:contact_create",
            "activities:customer_timeline",
        ),
        {"pk": lambda p: _south_customer(p).pk},
    ),
    **_each(
        ("customers:contact_edit", "customers:contact_delete"),
        {"pk": lambda p: _south_customer(p).contacts.get().pk},
    ),
    "customers:access_request_decide": {"pk": lambda p: _south_access_request(p).pk},
    **_each(
        ("customers:saved_view_edit", "customers:saved_view_delete"),
        {"pk": lambda p: _south_saved_view(p).pk},
    ),
    **_each(
        (
            "leads:lead_detail",
            "leads:lead_edit",
            "leads:lead_delete",
            "leads:lead_clean",
            "leads:lead_unclean",
            "leads:lead_assign",
            "leads:lead_convert",
        ),
        {"pk": lambda p: leads_access.south_lead(p).pk},
    ),
    **_each(
        (
            "leads:channel_detail",
            "leads:channel_edit",
            "leads:channel_delete",
            "leads:cost_create",
        ),
        {"pk": lambda p: leads_access.deleted_channel(p).pk},
    ),
    **_each(
        ("leads:cost_edit", "leads:cost_delete"),
        {"pk": lambda p: leads_access.channel_cost(p).pk},
    ),
    **_each(
        ("leads:rule_edit", "leads:rule_delete"),
        {"pk": lambda p: leads_access.south_rule(p).pk},
    ),
    **_each(
        ("leads:saved_view_edit", "leads:saved_view_delete"),
        {"pk": lambda p: leads_access.south_saved_view(p).pk},
    ),
    **_each(
        (
            "/api/v1/leads/{lead_id}",
            "/api/v1/leads/{lead_id}/clean",
            "/api/v1/leads/{lead_id}/unclean",
            "/api/v1/leads/{lead_id}/convert",
        ),
        {"lead_id": lambda p: leads_access.south_lead(p).pk},
    ),
    **_each(
        ("/api/v1/channels/{channel_id}", "/api/v1/channels/{channel_id}/costs"),
        {"channel_id": lambda p: leads_access.deleted_channel(p).pk},
    ),
    "/api/v1/users/{user_id}": {"user_id": lambda p: p["rep_south1"].pk},
    "/api/v1/users/{user_id}/deactivate": {"user_id": lambda p: p["rep_south1"].pk},
    "/api/v1/users/{user_id}/reactivate": {"user_id": lambda p: p["rep_south1"].pk},
    "/api/v1/users/{user_id}/handover": {"user_id": lambda p: p["rep_south1"].pk},
    "/api/v1/org-units/{unit_id}": {"unit_id": lambda p: _south_unit(p).pk},
    "/api/v1/roles/{role_id}": {"role_id": lambda p: _boss_role(p).pk},
    **_each(
        ("notifications:open", "notifications:read"),
        {"pk": lambda p: notifications_access.south_notification(p).pk},
    ),
    **_each(
        (
            "/api/v1/notifications/{notification_id}",
            "/api/v1/notifications/{notification_id}/read",
        ),
        {"notification_id": lambda p: notifications_access.south_notification(p).pk},
    ),
    **_each(
        (
            "notifications:channel_edit",
            "notifications:channel_delete",
            "notifications:channel_test",
        ),
        {"pk": lambda p: notifications_access.south_channel(p).pk},
    ),
    **_each(
        ("/api/v1/delivery-channels/{channel_id}", "/api/v1/delivery-channels/{channel_id}/test"),
        {"channel_id": lambda p: notifications_access.south_channel(p).pk},
    ),
    **_each(
        (
            "activities:follow_up_detail",
            "activities:follow_up_edit",
            "activities:follow_up_delete",
        ),
        {"pk": lambda p: activity_records.south_follow_up(p).pk},
    ),
    **_each(
        (
            "activities:visit_detail",
            "activities:visit_check_in",
            "activities:visit_complete",
            "activities:visit_cancel",
        ),
        {"pk": lambda p: activity_records.south_visit(p).pk},
    ),
    "activities:comment_delete": {"pk": lambda p: activity_records.south_comment(p).pk},
    **_each(
        ("activities:kind_edit", "activities:kind_toggle", "activities:kind_move"),
        {"pk": lambda p: activity_records.a_kind(p).pk},
    ),
    "/api/v1/follow-ups/{follow_up_id}": {
        "follow_up_id": lambda p: activity_records.south_follow_up(p).pk
    },
    **_each(
        (
            "/api/v1/visits/{visit_id}",
            "/api/v1/visits/{visit_id}/check-in",
            "/api/v1/visits/{visit_id}/complete",
            "/api/v1/visits/{visit_id}/cancel",
        ),
        {"visit_id": lambda p: activity_records.south_visit(p).pk},
    ),
    "/api/v1/comments/{comment_id}": {"comment_id": lambda p: activity_records.south_comment(p).pk},
    **_each(
        ("activities:task_edit", "activities:task_done", "activities:task_delete"),
        {"pk": lambda p: plan_records.south_task(p).pk},
    ),
    "activities:team_member": {"pk": lambda p: p["rep_south1"].pk},
    **_each(
        (
            "/api/v1/tasks/{task_id}",
            "/api/v1/tasks/{task_id}/complete",
            "/api/v1/tasks/{task_id}/reopen",
        ),
        {"task_id": lambda p: plan_records.south_task(p).pk},
    ),
    **sales_access.OUT_OF_SCOPE,
    **contracts_access.OUT_OF_SCOPE,
}


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), full_ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield name, prefix + str(entry.pattern), namespace


def page_patterns():
    """(name, route) of every page, the API excepted (the API is checked by its own schema)."""
    found = []
    for name, route, namespace in _walk(get_resolver().url_patterns):
        if namespace.split(":")[0] in SKIPPED_NAMESPACES or route.startswith("api/v1/"):
            continue
        found.append((name, route))
    return found


def _params(route: str) -> list[str]:
    return re.findall(r"<(?:\w+:)?(\w+)>", route)


def test_it_knows_every_page_by_name():
    unnamed = [route for name, route in page_patterns() if not name]
    assert unnamed == [], "give these URL patterns a name so the matrix can check them"


def test_it_refuses_anonymous_users_on_every_page(client, people):
    checked = 0
    for name, route in page_patterns():
        if name in PUBLIC_PAGES:
            continue
        params = _params(route)
        if params:
            assert name in OUT_OF_SCOPE, f"add {name} ({route}) to OUT_OF_SCOPE"
            kwargs = {p: OUT_OF_SCOPE[name][p](people) for p in params}
        else:
            kwargs = {}
        url = reverse(name, kwargs=kwargs)
        for method in ("get", "post"):
            response = getattr(client, method)(url, follow=True)
            if response.redirect_chain:
                # Redirects (e.g. /org/ → /org/units/) must end on the login page.
                assert response.redirect_chain[-1][0].startswith(reverse("login")), (name, method)
            else:
                assert response.status_code in (401, 403, 404, 405), (name, method)
            checked += 1
    assert checked > 0


def test_it_answers_404_for_records_outside_the_scope_on_every_page(login, people):
    client = login(people["rep_east1"])
    checked = []
    for name, route in page_patterns():
        params = _params(route)
        if not params or name in PUBLIC_PAGES:
            continue
        assert name in OUT_OF_SCOPE, f"add {name} ({route}) to OUT_OF_SCOPE"
        kwargs = {p: OUT_OF_SCOPE[name][p](people) for p in params}
        url = reverse(name, kwargs=kwargs)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code in (404, 405), (name, method, response.status_code)
        checked.append(name)
    assert checked, "no page with a record id was checked"


def api_operations():
    """(method, path template) of every API operation, from the OpenAPI schema."""
    schema = api.get_openapi_schema(custom_fields=False)
    for path, operations in schema["paths"].items():
        for method in operations:
            if method in {"get", "post", "put", "patch", "delete"}:
                yield method, path


def test_it_refuses_anonymous_users_on_every_api_route(client, people):
    checked = 0
    for method, path in api_operations():
        url = re.sub(r"\{(\w+)\}", "1", path)
        response = getattr(client, method)(url, content_type="application/json")
        assert response.status_code == 401, (method, path, response.status_code)
        body = response.json()
        assert "detail" in body and "errors" in body, (method, path)
        checked += 1
    assert checked > 0


def test_it_answers_404_for_records_outside_the_scope_on_every_api_route(login, people):
    client = login(people["rep_east1"])
    checked = []
    for method, path in api_operations():
        params = re.findall(r"\{(\w+)\}", path)
        if not params:
            continue
        assert path in OUT_OF_SCOPE, f"add {path} to OUT_OF_SCOPE"
        values = {p: OUT_OF_SCOPE[path][p](people) for p in params}
        url = path.format(**values)
        response = getattr(client, method)(url, data={}, content_type="application/json")
        assert response.status_code == 404, (method, path, response.status_code)
        assert response.json()["errors"] == [] or "detail" in response.json()
        checked.append((method, path))
    assert checked, "no API route with a record id was checked"


@pytest.fixture(autouse=True)
def _all_tests_use_the_database(db):
    """Reversing names and creating records needs the database in every test above."""
