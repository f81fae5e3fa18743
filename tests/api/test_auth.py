"""Who may call the API: a browser session (with CSRF for writes) or a personal access token."""

from django.test import Client

from tuoke.org import services

from .conftest import API, ApiClient, assert_error


def test_it_answers_me_for_a_session(api_as, rep_east):
    response = api_as(rep_east).get("/me")
    assert response.status_code == 200
    assert response.json()["username"] == "rep_east1"


def test_it_answers_me_for_a_bearer_token(token_api, rep_east):
    response = token_api(rep_east).get("/me")
    assert response.status_code == 200
    assert response.json()["username"] == "rep_east1"


def test_it_refuses_anonymous_requests_with_401(anonymous_api):
    assert_error(anonymous_api.get("/me"), 401)
    assert_error(anonymous_api.get("/users"), 401)
    # A write without a session is 401 too, not a CSRF 403.
    body = assert_error(anonymous_api.post("/org-units", {"name": "x"}), 401)
    assert body["code"] == "not_authenticated"


def test_it_refuses_an_unknown_token(db):
    api = ApiClient(Client(), {"Authorization": "Bearer tk_not-a-real-token"})
    assert_error(api.get("/me"), 401)
    api = ApiClient(Client(), {"Authorization": "Bearer something-else"})
    assert_error(api.get("/me"), 401)


def test_it_refuses_a_revoked_token(rep_east):
    token, raw = services.create_token(user=rep_east, name="script")
    api = ApiClient(Client(), {"Authorization": f"Bearer {raw}"})
    assert api.get("/me").status_code == 200
    services.revoke_token(token, by=rep_east)
    assert_error(api.get("/me"), 401)


def test_it_refuses_the_token_of_a_deactivated_user(admin_user, rep_east):
    _token, raw = services.create_token(user=rep_east, name="script")
    services.deactivate_user(rep_east, by=admin_user)
    api = ApiClient(Client(), {"Authorization": f"Bearer {raw}"})
    assert_error(api.get("/me"), 401)


def test_it_refuses_a_bad_token_even_with_a_valid_session(rep_east):
    client = Client()
    client.force_login(rep_east)
    api = ApiClient(client, {"Authorization": "Bearer tk_revoked-or-wrong"})
    assert_error(api.get("/me"), 401)


def test_it_refuses_the_session_of_a_deactivated_user(api_as, admin_user, rep_east):
    api = api_as(rep_east)
    services.deactivate_user(rep_east, by=admin_user)
    assert_error(api.get("/me"), 401)


def test_it_needs_the_csrf_token_for_session_writes(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post(
        f"{API}/org-units", data={"name": "华北销售组"}, content_type="application/json"
    )
    assert_error(response, 403)
    # With the token from the cookie the same write goes through.
    client.get("/")
    csrf = client.cookies["csrftoken"].value
    response = client.post(
        f"{API}/org-units",
        data={"name": "华北销售组"},
        content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )
    assert response.status_code == 201, response.content


def test_it_needs_no_csrf_token_with_a_bearer_token(admin_user):
    _token, raw = services.create_token(user=admin_user, name="script")
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        f"{API}/org-units",
        data={"name": "华北销售组"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 201, response.content


def test_it_reads_safe_methods_with_the_session_without_csrf(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.get(f"{API}/users").status_code == 200


def test_it_answers_in_the_language_of_the_token_user(admin_user, rep_east):
    services.update_user(rep_east, by=admin_user, language="zh-hans")
    _token, raw = services.create_token(user=rep_east, name="script")
    api = ApiClient(Client(), {"Authorization": f"Bearer {raw}"})
    body = assert_error(api.post("/org-units", {}), 400, field="name", code="required")
    assert body["errors"][0]["message"] == "这个字段是必填项。"


def test_it_reports_the_grants_administering_implies(api_as, people):
    from tuoke.core.models import Action, Scope
    from tuoke.org.services import create_role, update_user

    rep = people["rep_east1"]
    steward = create_role(
        name="客户管家", grants={("customer", Action.ADMINISTER): Scope.UNIT}, by=None
    )
    update_user(rep, by=None, roles=[*rep.roles.all(), steward])
    grants = api_as(rep).get("/me").json()["grants"]
    assert {"record_type": "customer", "action": "approve", "scope": "unit"} in grants
