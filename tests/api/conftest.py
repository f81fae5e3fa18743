"""API fixtures: clients that speak JSON with a session or a bearer token."""

import json

import pytest
from django.test import Client

API = "/api/v1"


class ApiClient:
    """A thin JSON client: api.get("/users"), api.post("/users", {...}) → response."""

    def __init__(self, client: Client, headers: dict[str, str] | None = None):
        self.client = client
        self.headers = headers or {}

    def _call(self, method: str, path: str, data=None, **headers):
        # Always JSON: without data Django's client would send an empty multipart form, which
        # a route with an optional body refuses as no JSON (it sends "{}" instead).
        kwargs = {"headers": {**self.headers, **headers}, "content_type": "application/json"}
        if data is not None:
            kwargs["data"] = data if isinstance(data, str | bytes) else json.dumps(data)
        return getattr(self.client, method)(API + path, **kwargs)

    def get(self, path: str, data=None, **headers):
        return self.client.get(API + path, data=data, headers={**self.headers, **headers})

    def post(self, path: str, data=None, **headers):
        return self._call("post", path, data, **headers)

    def patch(self, path: str, data=None, **headers):
        return self._call("patch", path, data, **headers)

    def put(self, path: str, data=None, **headers):
        return self._call("put", path, data, **headers)

    def delete(self, path: str, **headers):
        return self._call("delete", path, **headers)


@pytest.fixture
def api_as():
    """api_as(user) → an ApiClient logged in with that user's browser session."""

    def make(user):
        client = Client()
        client.force_login(user)
        return ApiClient(client)

    return make


@pytest.fixture
def token_api():
    """token_api(user) → an ApiClient that sends a fresh personal access token of the user."""
    from tuoke.org.services import create_token

    def make(user):
        _token, raw = create_token(user=user, name="tests")
        return ApiClient(Client(), {"Authorization": f"Bearer {raw}"})

    return make


@pytest.fixture
def anonymous_api():
    return ApiClient(Client())


def assert_error(response, status: int, field: str | None = None, code: str | None = None):
    """The common 4xx body; with ``field`` that field must be named in ``errors``."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"detail", "code", "errors"}, body
    assert isinstance(body["detail"], str) and body["detail"]
    for error in body["errors"]:
        assert set(error) == {"field", "message", "code"}
    if field is not None:
        fields = [e["field"] for e in body["errors"]]
        assert field in fields, body
        if code is not None:
            assert any(e["code"] == code for e in body["errors"] if e["field"] == field), body
    return body
