"""The leads API: scope, the duplicate flag, version conflicts, cleaning, conversion,
assignment, transfer, channels and their costs."""

import pytest

from tests.api.conftest import assert_error
from tests.customers.test_services import CODE
from tuoke.api import api
from tuoke.core.audit import trail_of
from tuoke.core.models import AuditEntry
from tuoke.customers import services as customer_services
from tuoke.leads import services
from tuoke.leads.models import Lead

from .conftest import make_lead


@pytest.fixture
def leads(people, marketing, website):
    return {
        "mine": make_lead(
            marketing,
            owner=people["rep_east1"],
            channel=website,
            short_name="腾达精密",
            credit_code=CODE,
            contact_name="王强",
            mobile="13800138000",
        ),
        "colleague": make_lead(
            marketing, owner=people["rep_east2"], company_name="东方电气有限公司"
        ),
        "south": make_lead(
            marketing, owner=people["rep_south1"], company_name="广州白云机电有限公司"
        ),
    }


def test_it_lists_only_leads_in_scope_in_constant_queries(
    people, leads, marketing, api_as, django_assert_max_num_queries
):
    for i in range(30):
        make_lead(marketing, owner=people["rep_east1"], short_name=f"客户{i:02d}")
    client = api_as(people["rep_east1"])
    with django_assert_max_num_queries(8):
        body = client.get("/leads", {"page_size": 50}).json()
    assert body["count"] == 31
    names = {lead["display_name"] for lead in body["items"]}
    assert "腾达精密" in names and "东方电气有限公司" not in names
    assert api_as(people["manager_east"]).get("/leads").json()["count"] == 32
    assert api_as(marketing).get("/leads").json()["count"] == 33


def test_it_filters_searches_and_sorts(people, leads, marketing, website, api_as):
    client = api_as(marketing)
    assert client.get("/leads", {"q": "tdjm"}).json()["count"] == 1
    assert client.get("/leads", {"q": "138 0013 8000"}).json()["count"] == 1
    assert client.get("/leads", {"q": "白云机电"}).json()["count"] == 1
    assert client.get("/leads", {"channel": website.pk}).json()["count"] == 1
    assert client.get("/leads", {"owner": people["rep_east2"].pk}).json()["count"] == 1
    services.clean_lead(leads["south"], kind="junk", reason="广告", by=marketing)
    junk = client.get("/leads", {"cleaning_kind": "junk"}).json()
    assert [lead["id"] for lead in junk["items"]] == [leads["south"].pk]
    assert junk["items"][0]["cleaning_reason"] == "广告"
    assert client.get("/leads", {"status": "new"}).json()["count"] == 2
    names = [i["display_name"] for i in client.get("/leads", {"sort": "company"}).json()["items"]]
    # Pinyin order of the trade names: 白云 (baiyun), 东方 (dongfang), 腾达 (tengda).
    assert names == ["广州白云机电有限公司", "东方电气有限公司", "腾达精密"]
    assert_error(client.get("/leads", {"sort": "owner__password"}), 400, "sort")


def test_it_creates_a_lead_and_flags_a_duplicate_without_refusing_it(
    people, leads, marketing, website, api_as
):
    client = api_as(people["rep_east2"])
    response = client.post(
        "/leads",
        {"short_name": "某公司", "mobile": "+86 138-0013-8000", "channel_id": website.pk},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner"]["username"] == "rep_east2" and body["status"] == "new"
    assert body["duplicate"] == {"kind": "lead", "name": "腾达精密", "owner": "张伟"}
    # rep_east2 may not see 张伟's lead: name and owner only, no id.
    [candidate] = [c for c in body["duplicates"] if c["kind"] == "lead"]
    assert candidate["id"] is None and candidate["match"] == "same"
    assert api_as(marketing).get(f"/leads/{body['id']}").json()["duplicates"][0]["id"] == (
        leads["mine"].pk
    )


def test_it_names_bad_fields(people, api_as, marketing):
    client = api_as(marketing)
    assert_error(client.post("/leads", {"needs": "只有需求"}), 400, "company_name", "required")
    assert_error(client.post("/leads", {"short_name": "甲", "mobile": "12"}), 400, "mobile")
    assert_error(client.post("/leads", {"short_name": "甲", "email": "x"}), 400, "email")
    assert_error(
        client.post("/leads", {"short_name": "甲", "channel_id": 999999}), 400, "channel_id"
    )
    assert_error(
        api_as(people["rep_east1"]).post(
            "/leads", {"short_name": "甲", "owner_id": people["rep_east2"].pk}
        ),
        400,
        "owner_id",
        "forbidden",
    )
    rep_only = api_as(people["finance1"])
    assert_error(rep_only.post("/leads", {"short_name": "甲"}), 403)


def test_it_edits_with_a_version_and_answers_409_when_stale(people, leads, api_as):
    client = api_as(people["rep_east1"])
    lead = leads["mine"]
    response = client.patch(
        f"/leads/{lead.pk}", {"version": lead.version, "needs": "20 台", "status": "working"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "working" and response.json()["version"] == 2
    stale = client.patch(f"/leads/{lead.pk}", {"version": 1, "needs": "30 台"})
    assert_error(stale, 409, "version", "stale_version")
    assert_error(client.patch(f"/leads/{lead.pk}", {"needs": "x"}), 400, "version")
    assert_error(
        client.patch(f"/leads/{lead.pk}", {"version": 2, "status": "converted"}), 400, "status"
    )
    # A colleague's lead is out of a rep's scope: 404, not 403.
    assert_error(client.patch(f"/leads/{leads['colleague'].pk}", {"version": 1, "needs": "x"}), 404)


def test_boss_reads_but_may_not_change_leads(people, leads, api_as):
    client = api_as(people["boss"])
    assert client.get(f"/leads/{leads['south'].pk}").status_code == 200
    assert_error(client.patch(f"/leads/{leads['south'].pk}", {"version": 1, "needs": "x"}), 403)
    assert_error(client.delete(f"/leads/{leads['south'].pk}"), 403)


def test_it_deletes_into_the_recycle_bin(people, leads, api_as):
    client = api_as(people["rep_east1"])
    assert client.delete(f"/leads/{leads['mine'].pk}").status_code == 204
    assert not Lead.objects.filter(pk=leads["mine"].pk).exists()
    assert Lead.all_objects.get(pk=leads["mine"].pk).deleted_at is not None
    assert_error(client.get(f"/leads/{leads['mine'].pk}"), 404)


def test_it_cleans_and_brings_back(people, leads, api_as):
    client = api_as(people["rep_east1"])
    url = f"/leads/{leads['mine'].pk}"
    assert_error(client.post(f"{url}/clean", {"kind": "junk"}), 400, "reason", "required")
    assert_error(client.post(f"{url}/clean", {"kind": "spam", "reason": "x"}), 400, "kind")
    body = client.post(f"{url}/clean", {"kind": "invalid", "reason": "空号"}).json()
    assert (body["status"], body["cleaning_kind"]) == ("cleaned", "invalid")
    assert_error(client.post(f"{url}/clean", {"kind": "junk", "reason": "x", "version": 1}), 409)
    assert client.post(f"{url}/unclean", {}).json()["status"] == "new"


def test_it_converts_into_a_new_customer(people, leads, api_as):
    client = api_as(people["rep_east1"])
    response = client.post(f"/leads/{leads['mine'].pk}/convert", {})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["created"] and body["customer"]["name"] == "腾达精密"
    assert body["contact"]["name"] == "王强"
    assert body["lead"]["status"] == "converted"
    assert body["lead"]["converted_customer"]["id"] == body["customer"]["id"]
    again = client.post(f"/leads/{leads['mine'].pk}/convert", {})
    assert_error(again, 400, "status", "already_converted")
    customer = client.get(f"/customers/{body['customer']['id']}").json()
    assert (
        customer["lifecycle_status"] == "potential" and customer["owner"]["username"] == "rep_east1"
    )


def test_conversion_errors_name_the_customer_and_contact_fields(people, leads, api_as):
    customer_services.create_customer(
        by=people["rep_south1"], legal_name="深圳市腾达精密科技有限公司"
    )
    client = api_as(people["rep_east1"])
    url = f"/leads/{leads['mine'].pk}/convert"
    assert_error(client.post(url, {}), 400, "customer.legal_name", "duplicate")
    body = {"customer": {"short_name": "新腾达"}, "contact": {"name": "王强", "mobile": "12"}}
    assert_error(client.post(url, body), 400, "contact.mobile")
    assert_error(client.post(url, {"customer_id": 999999}), 400, "customer_id")


def test_it_converts_into_an_existing_customer(people, leads, api_as):
    rep = people["rep_east1"]
    customer = customer_services.create_customer(by=rep, short_name="腾达集团")
    client = api_as(rep)
    response = client.post(
        f"/leads/{leads['mine'].pk}/convert",
        {"customer_id": customer.pk, "contact": {"name": "李娜"}},
    )
    assert response.status_code == 200, response.content
    assert response.json()["created"] is False
    assert [c.name for c in customer.contacts.all()] == ["李娜"]


def test_it_assigns_leads_in_bulk(people, leads, marketing, api_as):
    ids = [leads["mine"].pk, leads["colleague"].pk]
    rep = api_as(people["rep_east1"])
    assert_error(
        rep.post("/leads/assign", {"lead_ids": ids, "to_user_id": people["rep_east2"].pk}), 403
    )
    manager = api_as(people["manager_east"])
    south = manager.post("/leads/assign", {"lead_ids": ids, "to_user_id": people["rep_south1"].pk})
    assert_error(south, 400, "to_user_id", "forbidden")
    assert_error(
        manager.post("/leads/assign", {"lead_ids": [leads["south"].pk], "to_user_id": 1}), 404
    )
    done = manager.post(
        "/leads/assign", {"lead_ids": ids, "to_user_id": people["rep_east2"].pk, "reason": "均衡"}
    )
    assert done.json() == {"assigned": 1}
    assert Lead.objects.get(pk=leads["mine"].pk).owner == people["rep_east2"]


def _owners(leads) -> dict[str, str]:
    owners = dict(Lead.objects.values_list("pk", "owner__username"))
    return {key: owners[lead.pk] for key, lead in leads.items()}


def test_a_manager_transfers_his_teams_leads_with_a_reason(people, leads, api_as):
    ids = [leads["mine"].pk, leads["colleague"].pk]
    payload = {"lead_ids": ids, "to_user_id": people["rep_east2"].pk, "reason": "张伟离职"}
    done = api_as(people["manager_east"]).post("/leads/transfer", payload)
    assert done.status_code == 200, done.content
    assert done.json() == {"transferred": 1}  # the colleague's lead was his already
    assert _owners(leads) == {"mine": "rep_east2", "colleague": "rep_east2", "south": "rep_south1"}
    entry = trail_of(leads["mine"]).filter(kind=AuditEntry.Kind.UPDATE).get()
    assert entry.actor == people["manager_east"] and "张伟离职" in entry.note
    assert entry.changes[0]["field"] == "owner"
    assert not trail_of(leads["colleague"]).filter(kind=AuditEntry.Kind.UPDATE).exists()


def test_a_lead_out_of_scope_is_404_and_nothing_moves(people, leads, api_as):
    manager = api_as(people["manager_east"])
    mixed = [leads["mine"].pk, leads["south"].pk]
    payload = {"lead_ids": mixed, "to_user_id": people["rep_east2"].pk, "reason": "调整"}
    assert_error(manager.post("/leads/transfer", payload), 404)
    assert_error(manager.post("/leads/transfer", {**payload, "lead_ids": [10**6]}), 404)
    # Reps hand out nothing: their own leads are 403, others' 404.
    rep = api_as(people["rep_east1"])
    assert_error(rep.post("/leads/transfer", {**payload, "lead_ids": [leads["mine"].pk]}), 403)
    assert_error(rep.post("/leads/transfer", {**payload, "lead_ids": [leads["south"].pk]}), 404)
    # The boss sees every lead but works on none: he may transfer them all, like marketing.
    boss = api_as(people["boss"]).post(
        "/leads/transfer", {**payload, "to_user_id": people["rep_south2"].pk}
    )
    assert boss.json() == {"transferred": 2}
    assert _owners(leads) == {"mine": "rep_south2", "colleague": "rep_east2", "south": "rep_south2"}
    assert not trail_of(leads["colleague"]).filter(kind=AuditEntry.Kind.UPDATE).exists()


def test_transfer_errors_name_the_field_and_change_nothing(people, leads, api_as):
    manager = api_as(people["manager_east"])
    ids = [leads["mine"].pk, leads["colleague"].pk]
    good = {"lead_ids": ids, "to_user_id": people["rep_east2"].pk, "reason": "张伟离职"}
    # Outside his team, or not someone who works on leads: the new owner is refused.
    for to in ("rep_south1", "finance1"):
        response = manager.post("/leads/transfer", {**good, "to_user_id": people[to].pk})
        assert_error(response, 400, "to_user_id", "forbidden")
    assert_error(manager.post("/leads/transfer", {**good, "reason": ""}), 400, "reason")
    assert_error(manager.post("/leads/transfer", {**good, "reason": "   "}), 400, "reason")
    assert_error(manager.post("/leads/transfer", {**good, "lead_ids": []}), 400, "lead_ids")
    missing = {"lead_ids": ids, "reason": "x"}
    assert_error(manager.post("/leads/transfer", missing), 400, "to_user_id")
    assert _owners(leads) == {"mine": "rep_east1", "colleague": "rep_east2", "south": "rep_south1"}
    for lead in leads.values():
        assert not trail_of(lead).filter(kind=AuditEntry.Kind.UPDATE).exists()


def test_channels_everyone_reads_marketing_manages(people, marketing, website, api_as):
    rep = api_as(people["rep_east1"])
    assert [c["name"] for c in rep.get("/channels").json()] == ["官网表单"]
    assert_error(rep.post("/channels", {"name": "展会", "kind": "event"}), 403)
    assert_error(rep.patch(f"/channels/{website.pk}", {"version": 1, "active": False}), 403)
    assert_error(rep.get(f"/channels/{website.pk}/costs"), 403)
    client = api_as(marketing)
    created = client.post("/channels", {"name": "2026 上海工博会", "kind": "event"})
    assert created.status_code == 201
    assert_error(client.post("/channels", {"name": "官网表单", "kind": "website"}), 400, "name")
    assert_error(client.post("/channels", {"name": "x", "kind": "tv"}), 400, "kind")
    patched = client.patch(f"/channels/{website.pk}", {"version": 1, "active": False})
    assert patched.json()["active"] is False
    assert_error(client.patch(f"/channels/{website.pk}", {"version": 1, "note": "x"}), 409)
    assert client.delete(f"/channels/{created.json()['id']}").status_code == 204


def test_channel_costs(people, marketing, website, api_as):
    client = api_as(marketing)
    url = f"/channels/{website.pk}/costs"
    assert_error(client.post(url, {"period_start": "2026-10-01"}), 400, "period_end", "required")
    first = client.post(
        url, {"period_start": "2026-10-01", "period_end": "2026-10-31", "amount": "12000.50"}
    )
    assert first.status_code == 201 and first.json()["amount"] == "12000.50"
    overlap = client.post(
        url, {"period_start": "2026-10-31", "period_end": "2026-11-30", "amount": "1"}
    )
    assert_error(overlap, 400, "period_start", "overlap")
    backwards = client.post(
        url, {"period_start": "2026-12-31", "period_end": "2026-12-01", "amount": "1"}
    )
    assert_error(backwards, 400, "period_end")
    assert_error(
        client.post(
            url, {"period_start": "2027-01-01", "period_end": "2027-01-31", "amount": "-1"}
        ),
        400,
        "amount",
    )
    assert [c["amount"] for c in client.get(url).json()] == ["12000.50"]
    assert api_as(people["boss"]).get(url).status_code == 200


def test_the_openapi_document_describes_the_lead_routes_with_examples(db):
    schema = api.get_openapi_schema()
    paths = schema["paths"]
    for path in (
        "/api/v1/leads",
        "/api/v1/leads/{lead_id}",
        "/api/v1/leads/{lead_id}/convert",
        "/api/v1/leads/{lead_id}/clean",
        "/api/v1/leads/assign",
        "/api/v1/leads/transfer",
        "/api/v1/channels",
        "/api/v1/channels/{channel_id}",
        "/api/v1/channels/{channel_id}/costs",
    ):
        assert path in paths, path
    assert paths["/api/v1/leads"]["get"]["tags"] == ["leads"]
    lead = schema["components"]["schemas"]["LeadOut"]["properties"]
    assert lead["company_name"]["examples"] == ["深圳市腾达精密科技有限公司"]
    assert 409 in paths["/api/v1/leads/{lead_id}"]["patch"]["responses"]
    transfer = paths["/api/v1/leads/transfer"]["post"]
    assert {200, 400, 403, 404} <= set(transfer["responses"])
    body = schema["components"]["schemas"]["TransferIn"]
    assert set(body["required"]) == {"lead_ids", "to_user_id", "reason"}
    assert body["properties"]["reason"]["examples"] == ["张伟调往华南，线索交接给刘洋"]


def test_service_errors_name_the_api_input(people, leads, marketing, website, api_as):
    services.update_channel(website, by=marketing, active=False)
    client = api_as(marketing)
    inactive = client.post("/leads", {"short_name": "甲", "channel_id": website.pk})
    assert_error(inactive, 400, "channel_id", "inactive_channel")
    rep = people["rep_east1"]
    shared = customer_services.create_customer(by=people["rep_south1"], short_name="共享客户")
    customer_services.set_collaborator(shared, user=rep, access="read", by=people["rep_south1"])
    response = api_as(rep).post(f"/leads/{leads['mine'].pk}/convert", {"customer_id": shared.pk})
    assert_error(response, 400, "customer_id", "forbidden")
