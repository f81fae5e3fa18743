"""The approvals API: targets, flows (everyone reads, administrators change) and requests
(boxes, detail, decisions), each within the caller's sight."""

from __future__ import annotations

import pytest

from tests.api.conftest import ApiClient
from tests.org import test_approvals as engine
from tuoke.org import approvals
from tuoke.org.models import ApprovalFlow, ApprovalRequest

pytestmark = pytest.mark.django_db

# The engine tests' target over contracts (recording its callbacks) and their helpers.
calls = engine.calls
_contract, _finance, _flow = engine._contract, engine._finance, engine._flow


@pytest.fixture
def api_as():
    from django.test import Client

    def make(user):
        client = Client()
        client.force_login(user)
        return ApiClient(client)

    return make


def _errors(response) -> dict[str, str]:
    return {e["field"]: e["code"] for e in response.json()["errors"]}


@pytest.fixture
def submitted(people, calls):
    """rep_east1's contract of 800,000 pending with manager_east, then director, then finance."""
    _flow(people)
    rep = people["rep_east1"]
    return approvals.submit(_contract(rep), by=rep, comment="请审批")


# --- Targets and flows ------------------------------------------------------------------------


def test_it_lists_the_targets_with_their_facts_and_operators(people, calls, api_as):
    body = api_as(people["rep_east1"]).get("/approval-targets").json()
    [contract] = [t for t in body["targets"] if t["record_type"] == "contract"]
    facts = {f["key"]: (f["kind"], f["operators"]) for f in contract["facts"]}
    assert facts["amount"] == ("money", ["gte", "gt", "lte", "lt", "eq", "ne"])
    assert facts["foreign_currency"] == ("boolean", ["is_true", "is_false"])
    assert facts["currency"] == ("text", ["eq", "ne"])
    assert {o["key"] for o in body["operators"]} == approvals.OPERATORS


def test_everyone_reads_the_flows_in_constant_queries(
    people,
    calls,
    api_as,
    django_assert_max_num_queries,
):
    for n in range(3):
        _flow(people, name=f"流程{n}")
    client = api_as(people["rep_east1"])
    client.get("/approval-flows?page_size=1")  # the session and grants, read once
    with django_assert_max_num_queries(8) as few:
        client.get("/approval-flows?page_size=1")
    for n in range(3, 8):
        _flow(people, name=f"流程{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get("/approval-flows?target=contract&page_size=50").json()
    assert body["count"] == 8
    first = body["items"][0]
    assert first["name"] == "流程0" and first["conditions"] == [
        {"fact": "amount", "op": "gte", "value": "500000"}
    ]
    assert [(s["approver_kind"], s["role"]) for s in first["steps"]] == [
        ("unit_manager", None),
        ("next_manager", None),
        ("role", {"id": _finance().pk, "name": _finance().name}),
    ]
    flow = ApprovalFlow.objects.get(name="流程3")
    assert client.get(f"/approval-flows/{flow.pk}").json()["sort_order"] == flow.sort_order


def test_an_administrator_creates_a_flow(people, calls, api_as):
    client = api_as(people["admin"])
    response = client.post(
        "/approval-flows",
        {
            "name": "外币合同审批",
            "target": "contract",
            "conditions": [
                {"fact": "foreign_currency", "op": "is_true"},
                {"fact": "amount", "op": "gte", "value": 100000},
            ],
            "steps": [
                {"name": "财务审核", "approver_kind": "role", "role_id": _finance().pk},
                {
                    "name": "总经理审批",
                    "approver_kind": "user",
                    "user_id": people["boss"].pk,
                    "mode": "all",
                },
            ],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["conditions"] == [
        {"fact": "foreign_currency", "op": "is_true", "value": None},
        {"fact": "amount", "op": "gte", "value": "100000"},
    ]
    assert body["steps"][1]["user"]["username"] == "boss" and body["steps"][1]["mode"] == "all"
    assert body["version"] == 1


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"target": "banana"}, "target", "unknown_target"),
        ({"steps": []}, "steps", "invalid"),
        ({"steps": [{"name": "审批", "approver_kind": "role"}]}, "steps.0.role_id", "required"),
        (
            {"steps": [{"name": "审批", "approver_kind": "role", "role_id": 999999}]},
            "steps.0.role_id",
            "invalid",
        ),
        ({"steps": [{"name": "审批", "approver_kind": "user"}]}, "steps.0.user_id", "required"),
        ({"steps": [{"name": "审批", "approver_kind": "ceo"}]}, "steps.0.approver_kind", "invalid"),
        (
            {"conditions": [{"fact": "amount", "op": "gte", "value": "很多"}]},
            "conditions.0.value",
            "invalid",
        ),
        (
            {"conditions": [{"fact": "colour", "op": "eq", "value": 1}]},
            "conditions.0.fact",
            "invalid",
        ),
        ({"name": ""}, "name", "required"),
    ],
)
def test_it_refuses_a_bad_flow_naming_the_field(people, calls, api_as, change, field, code):
    payload = {
        "name": "流程",
        "target": "contract",
        "steps": [{"name": "部门经理审批", "approver_kind": "unit_manager"}],
        **change,
    }
    response = api_as(people["admin"]).post("/approval-flows", payload)
    assert response.status_code == 400, response.json()
    assert _errors(response).get(field) == code, response.json()


def test_only_administrators_change_flows(people, calls, api_as):
    flow = _flow(people)
    for who in ("rep_east1", "director", "boss", "finance1"):
        client = api_as(people[who])
        payload = {
            "name": "流程",
            "target": "contract",
            "steps": [{"name": "审批", "approver_kind": "unit_manager"}],
        }
        assert client.post("/approval-flows", payload).status_code == 403
        assert client.patch(f"/approval-flows/{flow.pk}", {"version": 1}).status_code == 403
        assert client.delete(f"/approval-flows/{flow.pk}").status_code == 403
        assert client.get(f"/approval-flows/{flow.pk}").status_code == 200


def test_an_administrator_changes_and_deletes_a_flow(people, calls, api_as):
    flow = _flow(people)
    client = api_as(people["admin"])
    response = client.patch(
        f"/approval-flows/{flow.pk}",
        {
            "version": 1,
            "name": "大额审批",
            "conditions": [{"fact": "discount", "op": "gte", "value": "20"}],
            "steps": [
                {"name": "总经理审批", "approver_kind": "user", "user_id": people["boss"].pk}
            ],
        },
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["name"] == "大额审批" and body["version"] == 2
    assert [s["name"] for s in body["steps"]] == ["总经理审批"]
    stale = client.patch(f"/approval-flows/{flow.pk}", {"version": 1, "active": False})
    assert stale.status_code == 409
    missing = client.patch(f"/approval-flows/{flow.pk}", {"name": "x"})
    assert missing.status_code == 400 and _errors(missing) == {"version": "required"}
    assert client.delete(f"/approval-flows/{flow.pk}").status_code == 204
    assert client.get(f"/approval-flows/{flow.pk}").status_code == 404
    assert ApprovalFlow.all_objects.get(pk=flow.pk).deleted_at is not None


# --- Requests ---------------------------------------------------------------------------------


def test_it_shows_each_approver_his_queue(people, submitted, api_as):
    manager = api_as(people["manager_east"]).get("/approval-requests?box=queue").json()
    assert [r["id"] for r in manager["items"]] == [submitted.pk]
    item = manager["items"][0]
    assert item["current_step_name"] == "部门经理审批" and item["amount"] == "800000.00"
    assert [p["username"] for p in item["waiting_for"]] == ["manager_east"]
    assert item["submitted_by"]["username"] == "rep_east1"
    assert api_as(people["director"]).get("/approval-requests?box=queue").json()["count"] == 0
    mine = api_as(people["rep_east1"]).get("/approval-requests?box=mine").json()
    assert [r["id"] for r in mine["items"]] == [submitted.pk]
    assert api_as(people["rep_east1"]).get("/approval-requests?box=queue").json()["count"] == 0
    # The director sees his team's requests, the boss every one, rep_south1 none.
    for who, count in (("director", 1), ("boss", 1), ("rep_south1", 0), ("rep_east2", 0)):
        assert api_as(people[who]).get("/approval-requests").json()["count"] == count, who
    pending = api_as(people["boss"]).get("/approval-requests?status=approved").json()
    assert pending["count"] == 0


def test_it_lists_requests_in_constant_queries(
    people,
    calls,
    api_as,
    django_assert_max_num_queries,
):
    _flow(people)
    rep = people["rep_east1"]
    approvals.submit(_contract(rep, "HT-Q-0"), by=rep)
    client = api_as(people["manager_east"])
    client.get("/approval-requests?box=queue")
    baseline = {}
    for box in ("queue", "all"):
        with django_assert_max_num_queries(10) as few:
            client.get(f"/approval-requests?box={box}")
        baseline[box] = len(few.captured_queries)
    for n in range(1, 7):
        approvals.submit(_contract(rep, f"HT-Q-{n}"), by=rep)
    for box in ("queue", "all"):
        with django_assert_max_num_queries(baseline[box]):
            body = client.get(f"/approval-requests?box={box}&page_size=50").json()
        assert body["count"] == 7


def test_it_shows_a_request_with_its_steps_and_history(people, submitted, api_as):
    body = api_as(people["manager_east"]).get(f"/approval-requests/{submitted.pk}").json()
    assert body["flow_name"] == "大额合同审批" and body["status"] == "pending"
    assert [
        (s["position"], s["status"], [a["username"] for a in s["approvers"]]) for s in body["steps"]
    ] == [
        (1, "pending", ["manager_east"]),
        (2, "waiting", ["director"]),
        (3, "waiting", ["finance1"]),
    ]
    assert body["actions"] == [
        {
            "kind": "submit",
            "step": None,
            "actor": body["actions"][0]["actor"],
            "comment": "请审批",
            "at": body["actions"][0]["at"],
        }
    ]
    assert body["may_decide"] is True and body["may_withdraw"] is False
    assert body["record_url"]
    mine = api_as(people["rep_east1"]).get(f"/approval-requests/{submitted.pk}").json()
    assert mine["may_decide"] is False and mine["may_withdraw"] is True


def test_a_request_goes_through_its_steps_by_the_api(people, submitted, api_as, calls):
    path = f"/approval-requests/{submitted.pk}"
    response = api_as(people["manager_east"]).post(f"{path}/approve", {"comment": "同意"})
    assert response.status_code == 200, response.json()
    assert response.json()["current_step"] == 2
    assert response.json()["current_step_name"] == "销售总监审批"
    assert api_as(people["director"]).post(f"{path}/approve", {}).status_code == 200
    response = api_as(people["finance1"]).post(f"{path}/approve", {"comment": "可以"})
    body = response.json()
    assert body["status"] == "approved" and body["decided_at"] and body["current_step"] is None
    assert [a["kind"] for a in body["actions"]] == ["submit", "approve", "approve", "approve"]
    assert [c[0] for c in calls] == ["approved"]
    again = api_as(people["finance1"]).post(f"{path}/approve", {})
    assert again.status_code == 400 and _errors(again) == {"status": "not_pending"}


def test_it_refuses_a_decision_out_of_turn_with_403_and_outside_the_scope_with_404(
    people, submitted, api_as
):
    path = f"/approval-requests/{submitted.pk}"
    for action in ("approve", "reject", "return"):
        # The director sees his team's request, but its current step is the east manager's.
        response = api_as(people["director"]).post(f"{path}/{action}", {"comment": "x"})
        assert response.status_code == 403, action
        assert response.json()["code"] == "not_your_step"
        for outsider in ("rep_east2", "rep_south1", "manager_south"):
            response = api_as(people[outsider]).post(f"{path}/{action}", {"comment": "x"})
            assert response.status_code == 404, (outsider, action)
    withdraw = api_as(people["manager_east"]).post(f"{path}/withdraw", {})
    assert withdraw.status_code == 403 and withdraw.json()["code"] == "not_submitter"
    assert api_as(people["rep_south1"]).get(path).status_code == 404
    assert ApprovalRequest.objects.get(pk=submitted.pk).status == "pending"


def test_rejecting_or_returning_needs_a_comment(people, submitted, api_as, calls):
    client = api_as(people["manager_east"])
    path = f"/approval-requests/{submitted.pk}"
    for action in ("reject", "return"):
        response = client.post(f"{path}/{action}", {})
        assert response.status_code == 400 and _errors(response) == {"comment": "required"}
    response = client.post(f"{path}/return", {"comment": "请补充付款条件"})
    assert response.status_code == 200 and response.json()["status"] == "returned"
    assert response.json()["steps"][0]["status"] == "returned"
    assert [c[0] for c in calls] == ["returned"]


def test_the_submitter_withdraws_his_request(people, submitted, api_as, calls):
    response = api_as(people["rep_east1"]).post(
        f"/approval-requests/{submitted.pk}/withdraw", {"comment": "金额有误"}
    )
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert response.json()["actions"][-1]["comment"] == "金额有误"
    assert [c[0] for c in calls] == ["withdrawn"]
    assert api_as(people["manager_east"]).get("/approval-requests?box=queue").json()["count"] == 0


def test_it_names_bad_filters(people, api_as):
    response = api_as(people["rep_east1"]).get("/approval-requests?box=everything")
    assert response.status_code == 400 and "box" in _errors(response)
