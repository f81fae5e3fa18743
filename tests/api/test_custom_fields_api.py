"""Custom fields through the API: the OpenAPI document lists the fields an administrator
defined, required ones are enforced on creation, and contacts carry their own."""

import pytest

from tuoke.core.custom_fields import create_custom_field, delete_custom_field
from tuoke.core.models import CustomField


@pytest.fixture
def fields(people):
    admin = people["admin"]
    return {
        "region": create_custom_field(
            target="customer",
            key="sales_region",
            label="销售大区",
            kind=CustomField.Kind.CHOICE,
            choices=["华东", "华南"],
            required=True,
            by=admin,
        ),
        "wechat": create_custom_field(
            target="contact", key="wechat", label="微信号", kind=CustomField.Kind.TEXT, by=admin
        ),
    }


def _component(schema, name):
    return schema["components"]["schemas"][name]["properties"]["custom"]


def test_the_openapi_document_describes_the_custom_fields(fields, api_as, people):
    schema = api_as(people["rep_east1"]).get("/openapi.json").json()
    out = _component(schema, "CustomerOut")
    assert out["properties"]["sales_region"]["enum"] == ["华东", "华南"]
    assert out["properties"]["sales_region"]["title"] == "销售大区"
    assert "required" not in out
    assert _component(schema, "CustomerCreate")["required"] == ["sales_region"]
    patch = _component(schema, "CustomerUpdate")
    assert patch["anyOf"][0]["properties"]["sales_region"]["type"] == "string"
    assert _component(schema, "ContactOut")["properties"]["wechat"]["type"] == "string"
    assert "x-tuoke-custom-fields" not in str(schema)


def test_a_removed_field_leaves_the_document(fields, api_as, people):
    delete_custom_field(fields["wechat"], by=people["admin"])
    schema = api_as(people["rep_east1"]).get("/openapi.json").json()
    assert _component(schema, "ContactOut")["properties"] == {}


def test_a_required_custom_field_is_enforced_on_creation(fields, api_as, people):
    api = api_as(people["rep_east1"])
    refused = api.post("/customers", {"short_name": "恒通物流"})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "custom.sales_region"
    wrong = api.post("/customers", {"short_name": "恒通物流", "custom": {"sales_region": "西北"}})
    assert wrong.status_code == 400
    created = api.post("/customers", {"short_name": "恒通物流", "custom": {"sales_region": "华东"}})
    assert created.status_code == 201, created.content
    assert created.json()["custom"] == {"sales_region": "华东"}


def test_contacts_carry_their_custom_fields(fields, api_as, people):
    api = api_as(people["rep_east1"])
    customer = api.post(
        "/customers", {"short_name": "恒通物流", "custom": {"sales_region": "华东"}}
    ).json()
    contact = api.post(
        f"/customers/{customer['id']}/contacts", {"name": "李娜", "custom": {"wechat": "lina88"}}
    )
    assert contact.status_code == 201, contact.content
    assert contact.json()["custom"] == {"wechat": "lina88"}
    cleared = api.patch(
        f"/contacts/{contact.json()['id']}",
        {"version": contact.json()["version"], "custom": {"wechat": None}},
    )
    assert cleared.status_code == 200, cleared.content
    assert cleared.json()["custom"] == {}


def test_the_document_reads_each_record_types_fields_once(
    fields, api_as, people, django_assert_max_num_queries
):
    api = api_as(people["rep_east1"])
    api.get("/me")  # the session is read once before counting
    targets = {"customer", "contact", "lead"}
    with django_assert_max_num_queries(3 + len(targets)):
        assert api.get("/openapi.json").status_code == 200
