"""Every API route that takes a record id answers 404 for a record outside the caller's scope,
whatever the method and the body: he may not learn that it exists."""

import re

import pytest

from tests.leads import access as leads_access
from tests.web.test_access_matrix import _south_customer
from tuoke.api import api
from tuoke.org.models import OrgUnit, Role

from .conftest import assert_error

# path parameter → the pk of a record rep_east1 (华东销售组, sales rep) cannot see
OUT_OF_SCOPE = {
    "user_id": lambda people: people["rep_south1"].pk,
    "unit_id": lambda people: OrgUnit.objects.get(name="华南销售组").pk,
    "role_id": lambda people: Role.objects.get(name="系统管理员").pk,
    "customer_id": lambda people: _south_customer(people).pk,
    "contact_id": lambda people: _south_customer(people).contacts.get().pk,
    "lead_id": lambda people: leads_access.south_lead(people).pk,
    "channel_id": lambda people: leads_access.deleted_channel(people).pk,
}


def operations_with_an_id():
    schema = api.get_openapi_schema(path_prefix="/api/v1", custom_fields=False)
    for path, operations in schema["paths"].items():
        if "{" in path:
            for method in operations:
                yield method, path


@pytest.mark.parametrize("method,path", list(operations_with_an_id()))
@pytest.mark.parametrize("body", [{}, {"version": 1, "name": "x", "title": "x"}])
def test_it_answers_404_outside_the_scope_on_every_route(api_as, people, method, path, body):
    values = {name: OUT_OF_SCOPE[name](people) for name in re.findall(r"\{(\w+)\}", path)}
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
