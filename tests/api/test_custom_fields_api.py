"""Custom fields through the API: the OpenAPI document lists the fields an administrator
defined, required ones are enforced on creation, contacts carry their own, and values of
removed fields stay out of the answers (they come back with a restore)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tuoke.core.custom_fields import (
    create_custom_field,
    delete_custom_field,
    restore_custom_field,
)
from tuoke.core.models import CustomField
from tuoke.customers.models import Customer
from tuoke.customers.services import create_contact, create_customer
from tuoke.leads.services import create_lead


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
    targets = {"customer", "contact", "lead", "contract"}
    # The definitions are kept under the directory's fingerprint: read once with it.
    with django_assert_max_num_queries(4 + len(targets)):
        assert api.get("/openapi.json").status_code == 200


# --- Values of removed fields -------------------------------------------------------------------


@pytest.fixture
def lead_field(people):
    return create_custom_field(
        target="lead", key="budget", label="预算", kind=CustomField.Kind.MONEY, by=people["admin"]
    )


def test_a_removed_fields_value_leaves_the_answers_and_returns_with_the_restore(
    fields, api_as, people
):
    api = api_as(people["rep_east1"])
    customer = api.post(
        "/customers",
        {
            "short_name": "恒通物流",
            "custom": {"sales_region": "华东"},
            "contacts": [{"name": "李娜", "custom": {"wechat": "lina88"}}],
        },
    ).json()
    url = f"/customers/{customer['id']}"
    delete_custom_field(fields["region"], by=people["admin"])
    delete_custom_field(fields["wechat"], by=people["admin"])

    detail = api.get(url).json()
    assert detail["custom"] == {}
    assert detail["contacts"][0]["custom"] == {}
    assert api.get("/customers").json()["items"][0]["custom"] == {}
    assert api.get(f"{url}/contacts").json()[0]["custom"] == {}
    stored = Customer.objects.get(pk=customer["id"])
    assert stored.custom == {"sales_region": "华东"}  # kept for the restore

    restore_custom_field(CustomField.all_objects.get(pk=fields["region"].pk), by=people["admin"])
    restore_custom_field(CustomField.all_objects.get(pk=fields["wechat"].pk), by=people["admin"])
    detail = api.get(url).json()
    assert detail["custom"] == {"sales_region": "华东"}
    assert detail["contacts"][0]["custom"] == {"wechat": "lina88"}


def test_an_edit_answer_hides_the_removed_fields_value_but_keeps_it_stored(fields, api_as, people):
    api = api_as(people["rep_east1"])
    customer = api.post(
        "/customers", {"short_name": "恒通物流", "custom": {"sales_region": "华东"}}
    ).json()
    delete_custom_field(fields["region"], by=people["admin"])
    edited = api.patch(
        f"/customers/{customer['id']}", {"version": customer["version"], "note": "老客户"}
    )
    assert edited.status_code == 200, edited.content
    assert edited.json()["custom"] == {}
    assert Customer.objects.get(pk=customer["id"]).custom == {"sales_region": "华东"}


def test_a_removed_lead_fields_value_leaves_the_answers_and_returns_with_the_restore(
    lead_field, api_as, people
):
    rep = people["rep_east1"]
    lead = create_lead(
        by=rep, owner=rep, company_name="星河科技", contact_name="何先生", custom={"budget": 3000}
    )
    api = api_as(rep)
    assert api.get(f"/leads/{lead.pk}").json()["custom"] == {"budget": "3000.00"}
    delete_custom_field(lead_field, by=people["admin"])
    assert api.get(f"/leads/{lead.pk}").json()["custom"] == {}
    assert api.get("/leads").json()["items"][0]["custom"] == {}
    restore_custom_field(CustomField.all_objects.get(pk=lead_field.pk), by=people["admin"])
    assert api.get("/leads").json()["items"][0]["custom"] == {"budget": "3000.00"}


def _queries(api, path):
    with CaptureQueriesContext(connection) as captured:
        response = api.get(path, {"page_size": 50})
    assert response.status_code == 200, response.content
    return len(captured), response.json()["items"]


def test_a_list_reads_the_definitions_once_whatever_its_length(fields, lead_field, api_as, people):
    rep = people["rep_east1"]
    delete_custom_field(lead_field, by=people["admin"])  # hidden values cost no more either
    create_custom_field(
        target="lead", key="grade", label="等级", kind=CustomField.Kind.TEXT, by=people["admin"]
    )

    def add(start, stop):
        for i in range(start, stop):
            create_customer(by=rep, short_name=f"客户{i:02d}", custom={"sales_region": "华东"})
            create_lead(
                by=rep,
                owner=rep,
                company_name=f"线索公司{i:02d}",
                contact_name="何先生",
                custom={"grade": "A"},
            )

    api = api_as(rep)
    api.get("/me")  # the session is read once before counting
    add(0, 2)
    few = {path: _queries(api, path)[0] for path in ("/customers", "/leads")}
    add(2, 50)
    for path in ("/customers", "/leads"):
        count, items = _queries(api, path)
        assert len(items) == 50
        assert count == few[path], path
    customers = _queries(api, "/customers")[1]
    assert {c["custom"]["sales_region"] for c in customers} == {"华东"}
    leads = _queries(api, "/leads")[1]
    assert {lead["custom"]["grade"] for lead in leads} == {"A"}


def test_a_customers_contacts_read_the_definitions_once(fields, api_as, people):
    rep = people["rep_east1"]
    contacts = [{"name": f"联系人{i:02d}", "custom": {"wechat": f"wx{i}"}} for i in range(50)]
    customer = create_customer(
        by=rep, short_name="恒通物流", contacts=contacts[:2], custom={"sales_region": "华东"}
    )
    api = api_as(rep)
    api.get("/me")
    url = f"/customers/{customer.pk}"
    api.get(url)  # fills the caches kept under the directory's fingerprint
    with CaptureQueriesContext(connection) as few:
        assert len(api.get(url).json()["contacts"]) == 2
    for contact in contacts[2:]:
        create_contact(customer, by=rep, **contact)
    with CaptureQueriesContext(connection) as many:
        body = api.get(url).json()
    assert len(body["contacts"]) == 50
    assert len(many) == len(few)
    assert {c["custom"]["wechat"] for c in body["contacts"]} == {f"wx{i}" for i in range(50)}
