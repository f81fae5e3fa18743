"""The contracts API: lists in scope with filters and a constant number of queries; drafting
(from an opportunity, with a payment plan, ids of the body looked up within the caller's
scope); editing with versions and the lock while pending; submit, withdraw, complete,
terminate, renew; the approval history; the payment plan; attachments; the settings; and
the OpenAPI document (examples, no two schemas of one name)."""

import json
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from pydantic import BaseModel

from tests.sales import records as sales_records
from tuoke.api import api as the_api
from tuoke.contracts.models import Contract, ContractAttachment, ContractSettings, Instalment

from . import records

API = "/api/v1"


class Api:
    """A JSON client of one user: api.get("/contracts"), api.post("/contracts", {...})."""

    def __init__(self, user):
        self.client = Client()
        self.client.force_login(user)

    def get(self, path, data=None):
        return self.client.get(API + path, data)

    def _send(self, method, path, data):
        body = json.dumps(data if data is not None else {})
        return getattr(self.client, method)(API + path, body, content_type="application/json")

    def post(self, path, data=None):
        return self._send("post", path, data)

    def patch(self, path, data=None):
        return self._send("patch", path, data)

    def put(self, path, data=None):
        return self._send("put", path, data)

    def delete(self, path):
        return self.client.delete(API + path)


@pytest.fixture
def api_of(people):
    return lambda name: Api(people[name])


def _errors(response) -> dict[str, str]:
    return {e["field"]: e["code"] for e in response.json()["errors"]}


def _today() -> date:
    return timezone.localdate()


@pytest.fixture
def east(people, customer):
    """rep_east1's effective contract with two instalments, rep_east2's draft, and
    rep_south1's contract (out of rep_east1's scope)."""
    rep = people["rep_east1"]
    today = _today()
    mine = records.contract(
        rep,
        customer,
        number="HT-EAST-001",
        title="五轴设备采购合同",
        amount="300000",
        ends_on=today + timedelta(days=40),
        instalments=[(today - timedelta(days=5), "100000"), (today + timedelta(days=30), "200000")],
    )
    colleague = records.contract(
        people["rep_east2"],
        records.customer(people["rep_east2"], "东方电气"),
        number="HT-EAST-002",
        title="东方电机合同",
        status="draft",
        amount="80000",
    )
    return {"mine": mine, "colleague": colleague, "south": records.south_contract(people)}


# --- Lists ------------------------------------------------------------------------------------


def test_it_lists_only_contracts_in_scope_in_constant_queries(
    people, east, api_of, django_assert_max_num_queries
):
    rep = people["rep_east1"]
    for i in range(25):
        records.contract(
            rep,
            east["mine"].customer,
            number=f"HT-LIST-{i:03d}",
            title=f"合同{i:02d}",
            amount="1000",
        )
    api = api_of("rep_east1")
    api.get("/contracts?page_size=5")  # the session and grants, read once
    with django_assert_max_num_queries(8) as few:
        small = api.get("/contracts?page_size=5").json()
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = api.get("/contracts?page_size=50").json()
    assert len(small["items"]) == 5
    assert body["count"] == 26
    numbers = {c["number"] for c in body["items"]}
    assert "HT-EAST-001" in numbers and "HT-EAST-002" not in numbers
    assert "HT-SOUTH-001" not in numbers
    first = next(c for c in body["items"] if c["number"] == "HT-EAST-001")
    assert first["customer"]["name"] == "腾达精密"
    assert first["owner"]["username"] == "rep_east1"
    assert (first["amount"], first["received_amount"], first["outstanding"]) == (
        "300000.00",
        "0.00",
        "300000.00",
    )
    manager = api_of("manager_east").get("/contracts?page_size=50").json()
    assert manager["count"] == 27  # his team's: rep_east2's draft too, not 华南's
    assert api_of("finance1").get("/contracts?page_size=1").json()["count"] == 28


def test_it_filters_and_sorts_contracts(people, east, api_of):
    api = api_of("manager_east")
    today = _today()

    def numbers(**params):
        response = api.get("/contracts", params)
        assert response.status_code == 200, response.json()
        return [c["number"] for c in response.json()["items"]]

    assert numbers(status="draft") == ["HT-EAST-002"]
    assert numbers(owner=people["rep_east1"].pk) == ["HT-EAST-001"]
    assert numbers(customer=east["mine"].customer_id) == ["HT-EAST-001"]
    assert numbers(q="东方") == ["HT-EAST-002"]
    assert numbers(q="EAST-001") == ["HT-EAST-001"]
    assert numbers(ends_before=(today + timedelta(days=60)).isoformat()) == ["HT-EAST-001"]
    assert numbers(ends_after=(today + timedelta(days=60)).isoformat()) == ["HT-EAST-002"]
    assert numbers(sort="amount") == ["HT-EAST-002", "HT-EAST-001"]
    assert numbers(sort="-amount") == ["HT-EAST-001", "HT-EAST-002"]
    bad = api.get("/contracts", {"status": "maybe", "ends_after": "soon", "sort": "colour"})
    assert bad.status_code == 400
    assert {"status", "ends_after", "sort"} <= set(_errors(bad))


# --- Drafting ---------------------------------------------------------------------------------


def test_it_drafts_a_contract_with_its_payment_plan(people, customer, api_of):
    api = api_of("rep_east1")
    response = api.post(
        "/contracts",
        {
            "customer_id": customer.pk,
            "title": "MES 二期",
            "amount": "240000",
            "discount": "5",
            "signed_on": "2026-07-01",
            "starts_on": "2026-07-01",
            "ends_on": "2027-06-30",
            "instalments": [
                {"due_on": "2026-07-15", "amount": "120000", "note": "预付款"},
                {"due_on": "2026-12-31", "amount": "120000"},
            ],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft" and body["number"].startswith("HT")
    assert body["owner"]["username"] == "rep_east1" and body["currency"] == "CNY"
    assert body["discount"] == "5.00" and body["ends_on"] == "2027-06-30"
    plan = api.get(f"/contracts/{body['id']}/instalments").json()
    assert [(i["position"], i["due_on"], i["amount"], i["note"]) for i in plan] == [
        (1, "2026-07-15", "120000.00", "预付款"),
        (2, "2026-12-31", "120000.00", ""),
    ]
    second = api.post("/contracts", {"customer_id": customer.pk, "title": "二", "amount": "1"})
    assert second.json()["number"] != body["number"]


def test_it_drafts_from_an_opportunity(people, customer, api_of):
    sales_records.pipeline()
    deal = sales_records.opportunity(
        people["rep_east1"], customer, title="五轴设备采购", amount="680000"
    )
    response = api_of("rep_east1").post("/contracts", {"opportunity_id": deal.pk})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["opportunity"] == {"id": deal.pk, "name": "五轴设备采购"}
    assert body["customer"]["id"] == customer.pk
    assert (body["title"], body["amount"]) == ("五轴设备采购", "680000.00")
    changed = api_of("rep_east1").post(
        "/contracts", {"opportunity_id": deal.pk, "title": "五轴设备采购合同", "amount": "650000"}
    )
    assert (changed.json()["title"], changed.json()["amount"]) == ("五轴设备采购合同", "650000.00")


def test_ids_of_the_body_are_looked_up_within_the_callers_scope(people, east, api_of):
    api = api_of("rep_east1")
    south = east["south"]
    sales_records.pipeline()
    south_deal = sales_records.south_opportunity(people)
    for body, field in (
        ({"customer_id": south.customer_id, "title": "x", "amount": "1"}, "customer_id"),
        ({"opportunity_id": south_deal.pk}, "opportunity_id"),
        (
            {
                "customer_id": east["mine"].customer_id,
                "title": "x",
                "amount": "1",
                "renews_id": south.pk,
            },
            "renews_id",
        ),
        ({"customer_id": 10**9, "title": "x", "amount": "1"}, "customer_id"),
    ):
        response = api.post("/contracts", body)
        assert response.status_code == 400, (body, response.json())
        assert _errors(response) == {field: "invalid"}
        assert "南方" not in response.content.decode()
    missing = api.post("/contracts", {"title": "x", "amount": "1"})
    assert _errors(missing) == {"customer_id": "required"}
    taken = api.post(
        "/contracts",
        {
            "customer_id": east["mine"].customer_id,
            "title": "x",
            "amount": "1",
            "number": "HT-EAST-001",
        },
    )
    assert _errors(taken) == {"number": "number_taken"}
    negative = api.post(
        "/contracts", {"customer_id": east["mine"].customer_id, "title": "x", "amount": "-1"}
    )
    assert _errors(negative) == {"amount": "invalid"}
    too_much = api.post(
        "/contracts",
        {
            "customer_id": east["mine"].customer_id,
            "title": "x",
            "amount": "100",
            "instalments": [{"due_on": "2026-09-01", "amount": "150"}],
        },
    )
    assert too_much.status_code == 400 and "instalments" in _errors(too_much)
    assert not Contract.objects.filter(title="x").exists()
    assert api_of("cs1").post("/contracts", {"title": "x"}).status_code == 403


# --- Reading and editing ----------------------------------------------------------------------


def test_it_reads_a_contract_within_the_scope(people, east, api_of):
    mine = east["mine"]
    assert api_of("rep_east1").get(f"/contracts/{mine.pk}").json()["number"] == "HT-EAST-001"
    assert api_of("manager_east").get(f"/contracts/{mine.pk}").status_code == 200
    assert api_of("finance1").get(f"/contracts/{mine.pk}").status_code == 200
    assert api_of("rep_east2").get(f"/contracts/{mine.pk}").status_code == 404
    assert api_of("rep_east1").get(f"/contracts/{east['south'].pk}").status_code == 404
    assert api_of("rep_east1").get("/contracts/999999999").status_code == 404


def test_it_edits_a_draft_with_its_version(people, draft, api_of):
    api = api_of("rep_east1")
    url = f"/contracts/{draft.pk}"
    response = api.patch(
        url, {"version": draft.version, "title": "MES 一期（修订）", "discount": "3"}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["title"], body["discount"], body["version"]) == (
        "MES 一期（修订）",
        "3.00",
        draft.version + 1,
    )
    stale = api.patch(url, {"version": draft.version, "title": "旧"})
    assert stale.status_code == 409 and _errors(stale) == {"version": "stale_version"}
    assert _errors(api.patch(url, {"title": "无版本"})) == {"version": "required"}
    assert _errors(api.patch(url, {"version": body["version"], "title": None})) == {
        "title": "required"
    }
    cleared = api.patch(url, {"version": body["version"], "discount": None})
    assert cleared.json()["discount"] is None
    assert api_of("finance1").patch(url, {"version": 9, "title": "财务"}).status_code == 403
    assert api_of("rep_east2").patch(url, {"version": 9, "title": "同事"}).status_code == 404


def test_an_effective_contract_keeps_its_terms(people, east, api_of):
    api = api_of("rep_east1")
    mine = east["mine"]
    refused = api.patch(f"/contracts/{mine.pk}", {"version": mine.version, "amount": "1"})
    assert refused.status_code == 400 and _errors(refused) == {"amount": "status"}
    noted = api.patch(f"/contracts/{mine.pk}", {"version": mine.version, "description": "备注"})
    assert noted.status_code == 200 and noted.json()["description"] == "备注"


# --- Approval and status ----------------------------------------------------------------------


def test_a_small_draft_becomes_effective_when_submitted(people, draft, api_of):
    response = api_of("rep_east1").post(f"/contracts/{draft.pk}/submit", {"comment": "请审批"})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "effective" and response.json()["effective_at"]
    assert api_of("rep_east1").get(f"/contracts/{draft.pk}/approvals").json() == []


def test_a_large_draft_waits_for_its_approvers_and_is_locked_meanwhile(people, large_draft, api_of):
    records.flow()
    api = api_of("rep_east1")
    url = f"/contracts/{large_draft.pk}"
    submitted = api.post(f"{url}/submit", {"comment": "客户要求月底前签", "version": 1})
    assert submitted.status_code == 200, submitted.json()
    assert submitted.json()["status"] == "pending"
    locked = api.patch(url, {"version": submitted.json()["version"], "title": "改"})
    assert locked.status_code == 400
    assert locked.json()["errors"][0]["code"] == "locked"
    again = api.post(f"{url}/submit", {})
    assert again.status_code == 400
    history = api.get(f"{url}/approvals").json()
    assert len(history) == 1
    request = history[0]
    assert request["status"] == "pending" and request["current_step"] == 1
    assert request["submitted_by"]["username"] == "rep_east1"
    assert request["steps"][0]["approvers"] == [
        {
            "id": people["manager_east"].pk,
            "username": "manager_east",
            "display_name": str(people["manager_east"]),
        }
    ]
    assert [a["kind"] for a in request["actions"]] == ["submit"]
    assert request["actions"][0]["comment"] == "客户要求月底前签"
    # An approver of a later step reads the contract he is asked about.
    assert api_of("finance1").get(url).status_code == 200
    # Only the submitter takes it back.
    assert api_of("manager_east").post(f"{url}/withdraw", {}).status_code == 403
    withdrawn = api.post(f"{url}/withdraw", {"comment": "金额要改"})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "draft"
    assert api.get(f"{url}/approvals").json()[0]["status"] == "withdrawn"


def test_it_completes_and_terminates_effective_contracts(people, east, customer, api_of):
    api = api_of("rep_east1")
    mine = east["mine"]
    other = records.contract(people["rep_east1"], customer, number="HT-EAST-009")
    manager = api_of("manager_east")
    # Ending a contract early is a manager's decision.
    assert api.post(f"/contracts/{mine.pk}/terminate", {"reason": "x"}).status_code == 403
    missing = manager.post(f"/contracts/{mine.pk}/terminate", {})
    assert _errors(missing) == {"reason": "required"}
    ended = manager.post(f"/contracts/{mine.pk}/terminate", {"reason": "客户经营困难，协商终止"})
    assert ended.status_code == 200, ended.json()
    assert ended.json()["status"] == "terminated"
    assert ended.json()["termination_reason"] == "客户经营困难，协商终止"
    stale = api.post(f"/contracts/{other.pk}/complete", {"version": other.version + 5})
    assert stale.status_code == 409
    done = api.post(f"/contracts/{other.pk}/complete", {"version": other.version})
    assert done.status_code == 200 and done.json()["status"] == "completed"
    again = api.post(f"/contracts/{other.pk}/complete", {})
    assert again.status_code == 400
    assert (
        api_of("finance1").post(f"/contracts/{other.pk}/terminate", {"reason": "x"}).status_code
        == 403
    )


def test_it_renews_a_contract_into_a_linked_draft(people, east, api_of):
    mine = east["mine"]
    assert api_of("finance1").post(f"/contracts/{mine.pk}/renew").status_code == 403
    response = api_of("rep_east1").post(f"/contracts/{mine.pk}/renew")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft" and body["id"] != mine.pk
    assert body["renews"] == {"id": mine.pk, "name": str(mine)}
    assert body["title"] == "五轴设备采购合同（续约）"
    assert (body["amount"], body["customer"]["id"]) == ("300000.00", mine.customer_id)
    assert api_of("rep_east1").post(f"/contracts/{mine.pk}/renew").status_code == 400


def test_it_deletes_a_draft_only(people, draft, east, api_of):
    api = api_of("rep_east1")
    assert api.delete(f"/contracts/{east['mine'].pk}").status_code == 400
    assert api_of("manager_south").delete(f"/contracts/{draft.pk}").status_code == 404
    assert api.delete(f"/contracts/{draft.pk}").status_code == 204
    assert api.get(f"/contracts/{draft.pk}").status_code == 404
    assert Contract.all_objects.get(pk=draft.pk).deleted_at is not None


# --- Payment plan -----------------------------------------------------------------------------


def test_it_replaces_the_payment_plan_with_its_version(people, east, api_of):
    api = api_of("rep_east1")
    mine = east["mine"]
    url = f"/contracts/{mine.pk}/instalments"
    first, second = api.get(url).json()
    assert first["overdue"] is True and second["overdue"] is False
    missing = api.put(url, {"instalments": []})
    assert _errors(missing) == {"version": "required"}
    plan = {
        "version": mine.version,
        "instalments": [
            {"id": first["id"], "due_on": first["due_on"], "amount": "150000", "note": "首付"},
            {"due_on": "2027-01-31", "amount": "150000"},
        ],
    }
    response = api.put(url, plan)
    assert response.status_code == 200, response.json()
    assert [(i["amount"], i["note"]) for i in response.json()] == [
        ("150000.00", "首付"),
        ("150000.00", ""),
    ]
    assert response.json()[0]["id"] == first["id"]
    assert not Instalment.objects.filter(pk=second["id"]).exists()
    stale = api.put(url, plan)
    assert stale.status_code == 409
    version = Contract.objects.get(pk=mine.pk).version
    too_much = api.put(
        url, {"version": version, "instalments": [{"due_on": "2027-01-31", "amount": "300001"}]}
    )
    assert too_much.status_code == 400 and "instalments" in _errors(too_much)
    wrong_id = api.put(
        url,
        {
            "version": version,
            "instalments": [{"id": 10**9, "due_on": "2027-01-31", "amount": "1"}],
        },
    )
    assert _errors(wrong_id) == {"instalments.0.id": "invalid"}
    bad = api.put(url, {"version": version, "instalments": [{"due_on": "x", "amount": "0"}]})
    assert {"instalments.0.due_on", "instalments.0.amount"} <= set(_errors(bad))
    assert api_of("finance1").put(url, {"version": version, "instalments": []}).status_code == 403


# --- Attachments ------------------------------------------------------------------------------


def _upload(api, contract, name, content):
    upload = SimpleUploadedFile(name, content)
    return api.client.post(f"{API}/contracts/{contract.pk}/attachments", {"file": upload})


def test_it_keeps_files_with_a_contract(people, east, api_of, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    api = api_of("rep_east1")
    mine = east["mine"]
    response = _upload(api, mine, "合同扫描件.pdf", b"%PDF-1.4 signed")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["name"], body["content_type"], body["size"]) == (
        "合同扫描件.pdf",
        "application/pdf",
        15,
    )
    assert body["uploaded_by"]["username"] == "rep_east1"
    listed = api.get(f"/contracts/{mine.pk}/attachments").json()
    assert [a["id"] for a in listed] == [body["id"]]
    download = api.client.get(body["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 signed"
    assert api_of("finance1").client.get(body["url"]).status_code == 200
    assert api_of("rep_east2").client.get(body["url"]).status_code == 404
    assert api_of("rep_east2").delete(f"/contract-attachments/{body['id']}").status_code == 404
    assert api_of("finance1").delete(f"/contract-attachments/{body['id']}").status_code == 403

    disguised = _upload(api, mine, "report.pdf", b"MZ\x90\x00 a program")
    assert disguised.status_code == 400 and _errors(disguised) == {"file": "file_type"}
    program = _upload(api, mine, "setup.exe", b"MZ\x90\x00")
    assert _errors(program) == {"file": "file_type"}
    settings.CONTRACT_ATTACHMENT_MAX_BYTES = 10
    big = _upload(api, mine, "big.pdf", b"%PDF-1.4 more than ten bytes")
    assert _errors(big) == {"file": "file_size"}
    nothing = api.client.post(f"{API}/contracts/{mine.pk}/attachments", {})
    assert nothing.status_code == 400 and _errors(nothing) == {"file": "required"}

    assert api.delete(f"/contract-attachments/{body['id']}").status_code == 204
    assert api.get(f"/contracts/{mine.pk}/attachments").json() == []
    assert api.client.get(body["url"]).status_code == 404
    assert ContractAttachment.all_objects.filter(pk=body["id"]).exists()


# --- Settings ---------------------------------------------------------------------------------


def test_administrators_change_the_contract_settings(people, api_of):
    shown = api_of("rep_east1").get("/contract-settings")
    assert shown.status_code == 200, shown.json()
    body = shown.json()
    assert body["credit_rule"] == "payment" and body["renewal_horizon_days"] == 60
    assert body["number_pattern"] == "HT{yyyy}{mm}-{seq:04}"
    assert body["next_number"] == f"HT{_today():%Y%m}-0001"
    assert (
        api_of("rep_east1").patch("/contract-settings", {"credit_rule": "approval"}).status_code
        == 403
    )
    admin = api_of("admin")
    changed = admin.patch(
        "/contract-settings",
        {
            "credit_rule": "approval",
            "renewal_horizon_days": 90,
            "number_pattern": "C{yyyy}-{seq:03}",
            "number_reset": "yearly",
        },
    )
    assert changed.status_code == 200, changed.json()
    body = changed.json()
    assert (body["credit_rule"], body["renewal_horizon_days"]) == ("approval", 90)
    assert body["next_number"] == f"C{_today():%Y}-001"
    assert body["updated_by"]["username"] == "admin"
    assert ContractSettings.current().credit_rule == "approval"
    bad = admin.patch("/contract-settings", {"number_pattern": "C{yyyy}"})
    assert _errors(bad) == {"number_pattern": "invalid"}
    no_year = admin.patch(
        "/contract-settings", {"number_pattern": "C-{seq}", "number_reset": "monthly"}
    )
    assert set(_errors(no_year)) == {"number_pattern"}
    assert _errors(admin.patch("/contract-settings", {"renewal_horizon_days": 0})) == {
        "renewal_horizon_days": "invalid"
    }
    assert _errors(admin.patch("/contract-settings", {"credit_rule": None})) == {
        "credit_rule": "required"
    }


# --- The OpenAPI document ---------------------------------------------------------------------


def _models_of(annotation, found: set[type[BaseModel]]) -> None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in found:
            return
        found.add(annotation)
        for field in annotation.model_fields.values():
            _models_of(field.annotation, found)
        return
    for arg in getattr(annotation, "__args__", ()) or ():
        _models_of(arg, found)


def test_the_openapi_document_has_one_schema_per_name_and_examples(db):
    schema = the_api.get_openapi_schema()
    for path in (
        "/api/v1/contracts",
        "/api/v1/contracts/{contract_id}/instalments",
        "/api/v1/contracts/{contract_id}/attachments",
        "/api/v1/contract-attachments/{attachment_id}",
        "/api/v1/payments/{payment_id}/confirm",
        "/api/v1/invoices/{invoice_id}/void",
        "/api/v1/contract-settings",
    ):
        assert path in schema["paths"], path
    components = schema["components"]["schemas"]
    for name in ("ContractOut", "ContractCreate", "PaymentOut", "InvoiceOut", "InstalmentOut"):
        assert name in components, name
    assert components["ContractCreate"]["properties"]["title"]["examples"]
    assert components["PaymentCreate"]["properties"]["amount"]["examples"]
    assert "put" in schema["paths"]["/api/v1/contracts/{contract_id}/instalments"]
    upload = schema["paths"]["/api/v1/contracts/{contract_id}/attachments"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    # Two schema classes of one name would leave only one in the document.
    found: set[type[BaseModel]] = set()
    for _prefix, router in the_api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for model in operation.models:
                    _models_of(model, found)
                for response in operation.response_models.values():
                    _models_of(response, found)
    by_name: dict[str, set[str]] = defaultdict(set)
    for model in found:
        by_name[model.__name__].add(f"{model.__module__}.{model.__qualname__}")
    ours = {n for n, where in by_name.items() if any("tuoke.contracts.api" in w for w in where)}
    assert ours, "the walk found none of the contracts API's schemas"
    clashes = {name: where for name, where in by_name.items() if name in ours and len(where) > 1}
    assert clashes == {}


def test_amounts_are_decimal_strings(people, east, api_of):
    body = api_of("rep_east1").get(f"/contracts/{east['mine'].pk}").json()
    assert Decimal(body["amount"]) == Decimal("300000")
    assert isinstance(body["amount"], str)
