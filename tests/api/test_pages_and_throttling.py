"""Lists come in pages of a capped size at a constant number of queries; callers are throttled."""

import pytest
from django.test import override_settings

from tuoke.org import services
from tuoke.org.models import OrgUnit, Role, User

from .conftest import assert_error


@pytest.fixture
def many_users(people, admin_user):
    east = OrgUnit.objects.get(name="华东销售组")
    rep = Role.objects.get(name="销售代表")
    for i in range(30):
        services.invite_user(
            username=f"extra{i:02}", display_name=f"Extra {i}", unit=east, roles=[rep], by=None
        )
    return User.objects.count()


def test_it_pages_with_the_default_size(api_as, admin_user, many_users, settings):
    body = api_as(admin_user).get("/users").json()
    assert body["count"] == many_users
    assert body["page"] == 1
    assert body["page_size"] == settings.API_PAGE_SIZE == 20
    assert len(body["items"]) == 20


def test_it_serves_the_following_pages(api_as, admin_user, many_users):
    api = api_as(admin_user)
    first = api.get("/users", {"page_size": 25}).json()["items"]
    second = api.get("/users", {"page_size": 25, "page": 2}).json()
    assert len(second["items"]) == many_users - 25
    assert {u["id"] for u in first}.isdisjoint(u["id"] for u in second["items"])
    assert api.get("/users", {"page": 99}).json()["items"] == []


def test_it_caps_the_page_size(api_as, admin_user, many_users, settings):
    settings.API_MAX_PAGE_SIZE = 25
    body = api_as(admin_user).get("/users", {"page_size": 1000}).json()
    assert body["page_size"] == 25
    assert len(body["items"]) == 25


@pytest.mark.parametrize("path", ["/users", "/org-units", "/roles"])
def test_it_lists_at_a_constant_number_of_queries(
    api_as, admin_user, many_users, path, django_assert_max_num_queries, django_assert_num_queries
):
    api = api_as(admin_user)
    api.get(path)  # warm the session
    with django_assert_max_num_queries(6) as small:
        assert api.get(path, {"page_size": 2}).status_code == 200
    with django_assert_num_queries(len(small.captured_queries)):
        assert api.get(path, {"page_size": 100}).status_code == 200


def test_it_lists_at_a_constant_number_of_queries_with_a_token(
    token_api, rep_east, many_users, django_assert_max_num_queries
):
    api = token_api(rep_east)
    api.get("/users")  # fills the caches kept under the directory's fingerprint (grants)
    with django_assert_max_num_queries(6):
        body = api.get("/users", {"page_size": 100}).json()
    assert body["count"] == 3 + 30


def test_it_throttles_a_user_beyond_the_rate(api_as, token_api, rep_east, rep_south):
    with override_settings(API_THROTTLE_RATE="3/m"):
        api = api_as(rep_east)
        for _ in range(3):
            assert api.get("/me").status_code == 200
        response = api.get("/me")
        body = assert_error(response, 429)
        assert body["code"] == "throttled"
        assert int(response["Retry-After"]) > 0
        # His tokens share his budget; somebody else still gets through.
        assert_error(token_api(rep_east).get("/me"), 429)
        assert api_as(rep_south).get("/me").status_code == 200


def test_it_throttles_with_a_rate_given_to_the_throttle(rf, rep_east):
    from tuoke.core.api import UserRateThrottle

    throttle = UserRateThrottle("2/m")
    request = rf.get("/")
    request.auth = rep_east
    assert [throttle.allow_request(request) for _ in range(3)] == [True, True, False]
    assert 0 < throttle.wait() <= 60


def test_it_does_not_throttle_when_the_rate_is_empty(api_as, rep_east, settings):
    settings.API_THROTTLE_RATE = ""
    api = api_as(rep_east)
    assert all(api.get("/me").status_code == 200 for _ in range(5))
