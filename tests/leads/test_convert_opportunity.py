"""Converting a lead with an opportunity (F02 "+ opportunity"): the convert page's opportunity
box and the API's ``opportunity`` object, their errors undoing the whole conversion, and who
may ask for one."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.api.conftest import assert_error
from tuoke.api import api
from tuoke.core.models import Action
from tuoke.customers.models import Customer
from tuoke.leads.models import Lead, LeadStatus
from tuoke.org.models import Role
from tuoke.org.services import update_role
from tuoke.sales.models import Opportunity, Pipeline

from .conftest import make_lead

NEEDS = "20 台五轴加工中心，预算 80 万\n希望年底前上线"


@pytest.fixture
def lead(people, marketing, website):
    return make_lead(
        marketing,
        owner=people["rep_east1"],
        channel=website,
        short_name="腾达精密",
        contact_name="王强",
        mobile="13800138000",
        needs=NEEDS,
    )


@pytest.fixture
def bare_lead(people, marketing):
    """A lead that says nothing of its needs."""
    return make_lead(marketing, owner=people["rep_east1"], company_name="东方电气有限公司")


def _url(lead):
    return reverse("leads:lead_convert", args=[lead.pk])


def _post(lead, **extra):
    return {"target": "new", "short_name": "腾达精密", "contact_name": "王强", **extra}


def _first_stage():
    pipeline = Pipeline.objects.filter(is_default=True).get()
    return pipeline.stages.filter(kind="open").order_by("sort_order").first()


def _without_opportunity_rights():
    """Sales reps may no longer create opportunities (an administrator's choice)."""
    role = Role.objects.get(default_key="sales_rep")
    grants = {
        (g.record_type, g.action): g.scope
        for g in role.grants.exclude(record_type="opportunity", action=Action.CREATE)
    }
    update_role(role, by=None, grants=grants)


def _stage_requires(*fields):
    stage = _first_stage()
    stage.required_fields = list(fields)
    stage.save(update_fields=["required_fields"])
    return stage


# --- The page -----------------------------------------------------------------------------------


def test_the_page_offers_an_opportunity_prefilled_from_the_needs(people, lead, bare_lead, login):
    client = login(people["rep_east1"])
    page = client.get(_url(lead)).content.decode()
    assert 'data-testid="convert-opportunity"' in page
    assert 'name="opportunity" x-model="opportunity" data-testid="with-opportunity"' in page
    assert 'id="id_opportunity" checked' in page  # the lead tells what they need
    assert 'value="20 台五轴加工中心，预算 80 万"' in page  # the first line of the needs
    assert 'value="800000.00"' in page  # the budget they mention
    assert 'name="opportunity_expected_close_date"' in page
    bare = client.get(_url(bare_lead)).content.decode()
    assert 'data-testid="with-opportunity"' in bare and 'id="id_opportunity" checked' not in bare
    assert 'value="New business: 东方电气有限公司"' in bare
    hidden = 'style="display: none" data-testid="opportunity-fields"'
    assert hidden in bare and hidden not in page  # the fields show only with the box ticked


def test_converting_with_the_box_ticked_opens_the_opportunity_and_lands_on_it(people, lead, login):
    rep = people["rep_east1"]
    client = login(rep)
    response = client.post(
        _url(lead),
        _post(
            lead,
            opportunity="on",
            opportunity_title="五轴加工中心 20 台",
            opportunity_amount="760000",
            opportunity_expected_close_date="2026-12-20",
        ),
    )
    opp = Opportunity.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("sales:opportunity_detail", args=[opp.pk])
    customer = Customer.objects.get(short_name="腾达精密")
    assert (opp.title, opp.amount, opp.expected_close_date) == (
        "五轴加工中心 20 台",
        Decimal("760000.00"),
        date(2026, 12, 20),
    )
    assert (opp.customer, opp.owner, opp.source_lead, opp.channel) == (
        customer,
        rep,
        lead,
        lead.channel,
    )
    assert [c.name for c in opp.contacts.all()] == ["王强"]
    assert opp.stage == _first_stage()
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.CONVERTED
    detail = client.get(response.url).content.decode()
    assert "五轴加工中心 20 台" in detail
    assert '<dd class="col-7 col-md-3">腾达精密</dd>' in detail  # its source lead
    assert "and the opportunity “五轴加工中心 20 台”" in detail  # the success message


def test_an_unticked_box_opens_none_even_with_bad_hidden_fields(people, lead, login):
    client = login(people["rep_east1"])
    response = client.post(_url(lead), _post(lead, opportunity_amount="很多"))
    customer = Customer.objects.get(short_name="腾达精密")
    assert response.url == reverse("customers:customer_detail", args=[customer.pk])
    assert not Opportunity.objects.exists()


def test_opportunity_errors_show_on_their_fields_and_undo_the_conversion(people, lead, login):
    client = login(people["rep_east1"])
    blank = client.post(_url(lead), _post(lead, opportunity="on", opportunity_title=" "))
    page = blank.content.decode()
    assert blank.status_code == 200 and 'data-field-error="opportunity_title"' in page
    _stage_requires("amount", "expected_close_date")
    missing = client.post(
        _url(lead), _post(lead, opportunity="on", opportunity_title="MES 一期")
    ).content.decode()
    assert 'data-field-error="opportunity_amount"' in missing
    assert 'data-field-error="opportunity_expected_close_date"' in missing
    assert "x-data=\"{ target: 'new', opportunity: true }\"" in missing  # the box stays ticked
    negative = client.post(
        _url(lead), _post(lead, opportunity="on", opportunity_amount="-5")
    ).content.decode()
    assert 'data-field-error="opportunity_amount"' in negative
    # Nothing of the conversion stayed: no customer, no contact, the lead still open.
    assert not Customer.objects.filter(short_name="腾达精密").exists()
    assert not Opportunity.objects.exists()
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.NEW


def test_without_the_right_to_create_opportunities_there_is_no_box(people, lead, login):
    _without_opportunity_rights()
    client = login(people["rep_east1"])
    page = client.get(_url(lead)).content.decode()
    assert 'data-testid="convert-opportunity"' not in page
    response = client.post(_url(lead), _post(lead, opportunity="on", opportunity_title="x"))
    assert response.status_code == 302  # converted, the ask ignored
    assert not Opportunity.objects.exists()


def test_the_page_of_someone_elses_lead_stays_hidden(people, lead, login):
    assert login(people["rep_south1"]).get(_url(lead)).status_code == 404
    response = login(people["rep_south1"]).post(_url(lead), _post(lead, opportunity="on"))
    assert response.status_code == 404
    assert not Opportunity.objects.exists()


def test_a_manager_converting_his_reps_lead_lands_on_the_reps_opportunity(people, lead, login):
    client = login(people["manager_east"])
    response = client.post(_url(lead), _post(lead, opportunity="on", opportunity_title="MES"))
    opp = Opportunity.objects.get()
    assert opp.owner == people["rep_east1"]
    assert response.url == reverse("sales:opportunity_detail", args=[opp.pk])


# --- The API ------------------------------------------------------------------------------------


def test_the_api_opens_the_opportunity_from_the_lead_and_returns_it(people, lead, api_as):
    client = api_as(people["rep_east1"])
    response = client.post(f"/leads/{lead.pk}/convert", {"opportunity": {}})
    assert response.status_code == 200, response.content
    body = response.json()
    opp = Opportunity.objects.get()
    assert body["opportunity"] == {"id": opp.pk, "name": "20 台五轴加工中心，预算 80 万"}
    assert opp.amount == Decimal("800000.00") and opp.description == NEEDS
    assert (opp.source_lead, opp.customer_id) == (lead, body["customer"]["id"])
    read = client.get(f"/opportunities/{opp.pk}").json()
    assert read["source_lead"]["id"] == lead.pk


def test_the_api_takes_the_facts_given(people, lead, api_as):
    client = api_as(people["rep_east1"])
    facts = {"title": "MES 一期", "amount": "1360000.00", "expected_close_date": "2026-12-20"}
    body = client.post(f"/leads/{lead.pk}/convert", {"opportunity": facts}).json()
    opp = Opportunity.objects.get(pk=body["opportunity"]["id"])
    assert (opp.title, opp.amount, opp.expected_close_date) == (
        "MES 一期",
        Decimal("1360000.00"),
        date(2026, 12, 20),
    )
    # null amount: none, not the budget from the needs; null title: the needs' first line.
    other = make_lead(
        people["marketing1"],
        owner=people["rep_east1"],
        company_name="杭州东方电气有限公司",
        needs=NEEDS,
    )
    body = client.post(
        f"/leads/{other.pk}/convert", {"opportunity": {"title": None, "amount": None}}
    ).json()
    opp = Opportunity.objects.get(pk=body["opportunity"]["id"])
    assert (opp.title, opp.amount) == ("20 台五轴加工中心，预算 80 万", None)


def test_the_api_converts_without_an_opportunity_unless_asked(people, lead, api_as):
    body = api_as(people["rep_east1"]).post(f"/leads/{lead.pk}/convert", {}).json()
    assert body["opportunity"] is None and body["created"]
    assert not Opportunity.objects.exists()


def test_api_errors_name_the_opportunity_field_and_undo_everything(people, lead, api_as):
    client = api_as(people["rep_east1"])
    url = f"/leads/{lead.pk}/convert"
    assert_error(client.post(url, {"opportunity": {"amount": "-1"}}), 400, "opportunity.amount")
    assert_error(client.post(url, {"opportunity": {"title": ""}}), 400, "opportunity.title")
    assert_error(
        client.post(url, {"opportunity": {"expected_close_date": "tomorrow"}}),
        400,
        "opportunity.expected_close_date",
    )
    _stage_requires("expected_close_date")
    refused = client.post(url, {"opportunity": {}})
    assert_error(refused, 400, "opportunity.expected_close_date")
    assert not Customer.objects.filter(short_name="腾达精密").exists()
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.NEW
    assert not Opportunity.objects.exists()


def test_the_api_refuses_an_opportunity_to_people_who_may_not_create_one(people, lead, api_as):
    _without_opportunity_rights()
    client = api_as(people["rep_east1"])
    assert_error(client.post(f"/leads/{lead.pk}/convert", {"opportunity": {}}), 403)
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.NEW
    assert client.post(f"/leads/{lead.pk}/convert", {}).status_code == 200


def test_the_api_hides_someone_elses_lead(people, lead, api_as):
    response = api_as(people["rep_south1"]).post(f"/leads/{lead.pk}/convert", {"opportunity": {}})
    assert response.status_code == 404
    assert not Opportunity.objects.exists()


def test_the_openapi_document_shows_the_opportunity_ask_with_an_example(db):
    schema = api.get_openapi_schema()["components"]["schemas"]
    ask = schema["ConvertIn"]["properties"]["opportunity"]
    assert ask["examples"] == [
        {"title": "MES 一期", "amount": "1360000.00", "expected_close_date": "2026-12-20"}
    ]
    assert set(schema["ConvertOpportunity"]["properties"]) == {
        "title",
        "amount",
        "expected_close_date",
    }
    assert "opportunity" in schema["ConversionOut"]["properties"]
