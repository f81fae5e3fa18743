"""Every API route that takes a record id answers 404 for a record outside the caller's scope,
whatever the method and the body: he may not learn that it exists."""

import re

import pytest

from tests.web.test_access_matrix import OUT_OF_SCOPE
from tuoke.api import api

from .conftest import assert_error

# The out-of-scope records are those of the access matrix (tests/web/test_access_matrix.py),
# by API path; this file adds what the matrix does not try: bodies, and ids that do not exist.


def operations_with_an_id():
    schema = api.get_openapi_schema(path_prefix="/api/v1", custom_fields=False)
    for path, operations in schema["paths"].items():
        if "{" in path:
            for method in operations:
                yield method, path


@pytest.mark.parametrize("method,path", list(operations_with_an_id()))
@pytest.mark.parametrize("body", [{}, {"version": 1, "name": "x", "title": "x"}])
def test_it_answers_404_outside_the_scope_on_every_route(api_as, people, method, path, body):
    values = {name: OUT_OF_SCOPE[path][name](people) for name in re.findall(r"\{(\w+)\}", path)}
    api = api_as(people["rep_east1"])
    url = path.removeprefix("/api/v1").format(**values)
    if method in ("get", "delete"):
        response = getattr(api, method)(url)
    else:
        response = getattr(api, method)(url, body)
    assert_error(response, 404)


def test_it_answers_404_to_an_admin_for_a_record_that_does_not_exist(api_as, admin_user):
    api = api_as(admin_user)
    for method, path in operations_with_an_id():
        url = re.sub(r"\{\w+\}", "999999", path.removeprefix("/api/v1"))
        response = (
            getattr(api, method)(url)
            if method in ("get", "delete")
            else getattr(api, method)(url, {"version": 1})
        )
        assert_error(response, 404)
