"""The approval pages: the queue's tabs, a request's page with its decisions, the history
partial a record page includes, and the approval flow settings with their editor."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from tests.contracts import records
from tuoke.contracts import services as contracts
from tuoke.contracts.models import Contract
from tuoke.core.money import set_rate
from tuoke.org import approvals
from tuoke.org.models import ApprovalAction, ApprovalFlow, ApprovalRequest, Role


@pytest.fixture
def big_flow(people):
    """Contracts of 500,000 or more: 王经理 (unit manager), 孙总监 (his manager), finance."""
    return records.flow()


def _submitted(people, *, number="HT-EAST-001", amount="800000", owner="rep_east1"):
    """A draft of ``owner`` submitted through the contract services: pending at step 1."""
    rep = people[owner]
    customer = records.customer(rep, "华东客户")
    contract = records.contract(
        rep, customer, number=number, title="华东大额合同", amount=amount, status="draft"
    )
    contracts.submit_contract(contract, by=rep, comment="请审批")
    return approvals.pending_request(contract)


def _html(response) -> str:
    return response.content.decode()


# --- Queue --------------------------------------------------------------------------------------


def test_it_shows_manager_east_the_request_in_his_queue(people, login, big_flow):
    pending = _submitted(people)
    response = login(people["manager_east"]).get("/approvals/")
    html = _html(response)
    assert response.status_code == 200
    assert html.count('data-testid="approval-row"') == 1
    assert f'data-request="{pending.pk}"' in html
    assert "HT-EAST-001 华东大额合同" in html
    assert "¥800,000.00" in html
    assert "部门经理审批" in html  # the current step
    assert "张伟" in html  # the submitter
    assert 'data-testid="decide-count">1<' in html


def test_it_shows_a_rep_his_submitted_requests_and_an_empty_queue(people, login, big_flow):
    pending = _submitted(people)
    client = login(people["rep_east1"])
    queue = _html(client.get("/approvals/"))
    assert 'data-testid="approval-row"' not in queue
    assert 'data-testid="empty-state"' in queue
    mine = _html(client.get("/approvals/?box=mine"))
    assert f'data-request="{pending.pk}"' in mine
    assert 'data-status="pending"' in mine
    # Filtered by status: nothing approved yet.
    approved = _html(client.get("/approvals/?box=mine&status=approved"))
    assert 'data-testid="approval-row"' not in approved
    assert "No requests match" in approved


def test_it_shows_the_director_his_teams_requests_but_not_in_his_queue_yet(people, login, big_flow):
    pending = _submitted(people)
    client = login(people["director"])
    assert 'data-testid="approval-row"' not in _html(client.get("/approvals/"))
    assert f'data-request="{pending.pk}"' in _html(client.get("/approvals/?box=all"))


def test_it_keeps_a_south_request_out_of_an_east_managers_lists(people, login):
    south = records.south_request(people)
    client = login(people["manager_east"])
    for box in ("queue", "mine", "all"):
        assert f'data-request="{south.pk}"' not in _html(client.get(f"/approvals/?box={box}"))
    assert f'data-request="{south.pk}"' in _html(login(people["manager_south"]).get("/approvals/"))


def test_it_lists_the_queue_in_constant_queries(
    people, login, big_flow, django_assert_max_num_queries
):
    rep = people["rep_east1"]
    customer = records.customer(rep, "华东客户")
    for i in range(30):
        made = records.contract(rep, customer, number=f"HT-Q-{i:03}", amount="600000")
        records.pending_request(rep, made, approvers_per_step=[[people["manager_east"]]])
    client = login(people["manager_east"])
    client.get("/approvals/")  # the caches of the directory and the sidebar
    with django_assert_max_num_queries(12):
        response = client.get("/approvals/")
    html = _html(response)
    assert html.count('data-testid="approval-row"') == 25
    assert 'data-testid="pagination"' in html
    with django_assert_max_num_queries(12):
        response = client.get("/approvals/?box=all&page=2")
    assert _html(response).count('data-testid="approval-row"') == 5


# --- A request ----------------------------------------------------------------------------------


def test_it_shows_a_request_with_its_record_steps_and_history(people, login, big_flow):
    pending = _submitted(people)
    response = login(people["manager_east"]).get(f"/approvals/{pending.pk}/")
    html = _html(response)
    assert response.status_code == 200
    contract = Contract.objects.get(number="HT-EAST-001")
    assert f'href="/contracts/{contract.pk}/"' in html
    assert html.count('data-testid="approval-step"') == 3
    assert 'data-approver="manager_east"' in html
    assert 'data-approver="director"' in html
    assert 'data-approver="finance1"' in html
    assert 'data-kind="submit"' in html and "请审批" in html
    assert 'data-testid="decision-form"' in html
    assert 'data-testid="withdraw-form"' not in html  # he did not submit it


def test_it_gives_rep_east1_404_on_a_south_request(people, login):
    south = records.south_request(people)
    client = login(people["rep_east1"])
    assert client.get(f"/approvals/{south.pk}/").status_code == 404
    for decision in ("approve", "reject", "return", "withdraw"):
        response = client.post(f"/approvals/{south.pk}/{decision}/", {"comment": "不行"})
        assert response.status_code == 404
    assert ApprovalRequest.objects.get(pk=south.pk).status == "pending"


def test_it_shows_no_decision_to_a_viewer_who_is_not_the_current_approver(people, login, big_flow):
    pending = _submitted(people)
    for viewer in ("director", "boss", "finance1"):
        client = login(people[viewer])
        html = _html(client.get(f"/approvals/{pending.pk}/"))
        assert 'data-testid="approval-title"' in html, viewer
        assert 'data-testid="decision-form"' not in html, viewer
        for decision in ("approve", "reject", "return"):
            response = client.post(f"/approvals/{pending.pk}/{decision}/", {"comment": "x"})
            assert response.status_code == 403, (viewer, decision)
    pending.refresh_from_db()
    assert (pending.status, pending.current_step) == ("pending", 1)


def test_it_approves_with_a_comment_and_moves_on_to_the_next_step(people, login, big_flow):
    pending = _submitted(people)
    response = login(people["manager_east"]).post(
        f"/approvals/{pending.pk}/approve/", {"comment": "同意，价格合理"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/approvals/{pending.pk}/"
    pending.refresh_from_db()
    assert (pending.status, pending.current_step) == ("pending", 2)
    action = ApprovalAction.objects.get(request=pending, kind="approve")
    assert (action.actor, action.comment) == (people["manager_east"], "同意，价格合理")
    director = login(people["director"])
    assert f'data-request="{pending.pk}"' in _html(director.get("/approvals/"))
    html = _html(director.get(f"/approvals/{pending.pk}/"))
    assert 'data-testid="decision-form"' in html
    assert 'data-approver="manager_east" data-did="approve"' in html
    assert "同意，价格合理" in html


def test_it_makes_the_contract_effective_when_the_last_step_approves(people, login, big_flow):
    pending = _submitted(people)
    for approver in ("manager_east", "director", "finance1"):
        response = login(people[approver]).post(f"/approvals/{pending.pk}/approve/", {})
        assert response.status_code == 302, approver
    pending.refresh_from_db()
    assert pending.status == "approved"
    assert Contract.objects.get(number="HT-EAST-001").status == "effective"
    html = _html(login(people["rep_east1"]).get(f"/approvals/{pending.pk}/"))
    assert html.count('data-did="approve"') == 3
    assert 'data-testid="withdraw-form"' not in html


def test_it_requires_a_comment_to_return_or_reject(people, login, big_flow):
    pending = _submitted(people)
    client = login(people["manager_east"])
    for decision in ("return", "reject"):
        response = client.post(f"/approvals/{pending.pk}/{decision}/", {"comment": "  "})
        assert response.status_code == 400
        html = _html(response)
        assert 'data-field-error="comment"' in html
        assert 'data-testid="decision-form"' in html
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_it_returns_a_request_for_changes(people, login, big_flow):
    pending = _submitted(people)
    response = login(people["manager_east"]).post(
        f"/approvals/{pending.pk}/return/", {"comment": "请补充付款条款"}
    )
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == "returned"
    assert Contract.objects.get(number="HT-EAST-001").status == "draft"
    html = _html(login(people["rep_east1"]).get(f"/approvals/{pending.pk}/"))
    assert 'data-status="returned"' in html
    assert "请补充付款条款" in html


def test_it_rejects_a_request(people, login, big_flow):
    pending = _submitted(people)
    login(people["manager_east"]).post(f"/approvals/{pending.pk}/reject/", {"comment": "折扣过大"})
    pending.refresh_from_db()
    assert pending.status == "rejected"
    assert ApprovalAction.objects.get(request=pending, kind="reject").comment == "折扣过大"


def test_it_lets_only_the_submitter_withdraw(people, login, big_flow):
    pending = _submitted(people)
    assert login(people["manager_east"]).post(f"/approvals/{pending.pk}/withdraw/").status_code == (
        403
    )
    rep = login(people["rep_east1"])
    assert 'data-testid="withdraw-form"' in _html(rep.get(f"/approvals/{pending.pk}/"))
    assert rep.post(f"/approvals/{pending.pk}/withdraw/").status_code == 302
    pending.refresh_from_db()
    assert pending.status == "withdrawn"
    assert Contract.objects.get(number="HT-EAST-001").status == "draft"
    assert rep.get(f"/approvals/{pending.pk}/withdraw/").status_code == 405


def test_it_answers_htmx_with_a_redirect_header(people, login, big_flow):
    pending = _submitted(people)
    response = login(people["manager_east"]).post(
        f"/approvals/{pending.pk}/approve/?next=/approvals/", {}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/approvals/"


def test_it_refuses_a_decision_on_a_decided_request_at_the_comment(people, login, big_flow):
    pending = _submitted(people)
    client = login(people["manager_east"])
    client.post(f"/approvals/{pending.pk}/approve/", {})
    # The same step again (e.g. a second tab): not his step any more.
    response = client.post(f"/approvals/{pending.pk}/approve/", {})
    assert response.status_code == 403


# --- The history on a record's page -------------------------------------------------------------


def test_it_renders_a_records_approval_history(people, big_flow, rf, django_assert_max_num_queries):
    pending = _submitted(people)
    approvals.return_for_changes(pending, by=people["manager_east"], comment="请修改")
    contract = Contract.objects.get(number="HT-EAST-001")
    contracts.submit_contract(contract, by=people["rep_east1"])
    history = approvals.history(contract)
    with django_assert_max_num_queries(1):
        html = render_to_string(
            "approvals/_history.html",
            {
                "approval_history": history,
                "approval_pending": approvals.pending_request(contract),
                "user": people["rep_east1"],
            },
        )
    assert html.count('data-testid="approval-request"') == 2
    assert 'data-status="returned"' in html and "请修改" in html
    assert 'data-testid="approval-pending-link"' in html
    assert f'href="/approvals/{pending.pk}/"' in html


# --- Flow settings ------------------------------------------------------------------------------


def _flow_post(**overrides):
    finance = Role.objects.get(default_key="finance")
    data = {
        "name": "海外大单审批",
        "target": "contract",
        "description": "外币合同由财务把关",
        "active": "on",
        "condition_fact": ["foreign_currency", "amount"],
        "condition_op": ["is_true", "gte"],
        "condition_value": ["", "100000"],
        "step_name": ["部门经理审批", "财务审核"],
        "step_approver_kind": ["unit_manager", "role"],
        "step_role": ["", str(finance.pk)],
        "step_user": ["", ""],
        "step_mode": ["any", "all"],
    }
    data.update(overrides)
    return data


def test_it_lists_the_flows_with_conditions_and_steps_in_words(people, login, big_flow):
    response = login(people["admin"]).get("/approvals/flows/")
    html = _html(response)
    assert response.status_code == 200
    assert 'data-flow="大额合同审批"' in html
    assert "Amount (reporting currency) ≥ ¥500,000.00" in html
    assert "部门经理审批" in html and "财务审核" in html
    assert "Changing a flow does not change requests already submitted." in html
    assert 'data-testid="flow-active"' in html


def test_it_refuses_the_flow_pages_to_a_rep(people, login, big_flow):
    client = login(people["rep_east1"])
    assert client.get("/approvals/flows/").status_code == 403
    assert client.get("/approvals/flows/new/").status_code == 403
    assert client.get(f"/approvals/flows/{big_flow.pk}/edit/").status_code == 404


def test_it_creates_a_flow_from_the_editor_rows(people, login):
    client = login(people["admin"])
    assert client.get("/approvals/flows/new/").status_code == 200
    response = client.post("/approvals/flows/new/", _flow_post())
    assert response.status_code == 302
    flow = ApprovalFlow.objects.get(name="海外大单审批")
    assert flow.conditions == [
        {"fact": "foreign_currency", "op": "is_true", "value": None},
        {"fact": "amount", "op": "gte", "value": "100000"},
    ]
    steps = list(flow.steps.order_by("sort_order"))
    assert [(s.name, s.approver_kind, s.mode) for s in steps] == [
        ("部门经理审批", "unit_manager", "any"),
        ("财务审核", "role", "all"),
    ]
    assert steps[1].role.default_key == "finance"
    listed = _html(client.get("/approvals/flows/"))
    assert "Foreign currency is yes" in listed


def test_it_shows_the_editors_errors_at_their_rows(people, login):
    client = login(people["admin"])
    response = client.post(
        "/approvals/flows/new/", _flow_post(condition_value=["", "很多"], step_role=["", ""])
    )
    assert response.status_code == 400
    html = _html(response)
    assert 'data-testid="row-error" data-field="value"' in html
    assert "Enter an amount of money." in html
    assert 'value="很多"' in html  # what was typed stays
    assert not ApprovalFlow.objects.filter(name="海外大单审批").exists()
    # The value fixed, the missing role is named at its row.
    response = client.post("/approvals/flows/new/", _flow_post(step_role=["", ""]))
    html = _html(response)
    assert response.status_code == 400
    assert 'data-testid="row-error" data-field="role"' in html
    # No step at all.
    response = client.post(
        "/approvals/flows/new/",
        _flow_post(step_name=[], step_approver_kind=[], step_role=[], step_user=[], step_mode=[]),
    )
    assert response.status_code == 400
    assert 'data-field-error="steps"' in _html(response)
    # The flow's own fields.
    response = client.post("/approvals/flows/new/", _flow_post(name=" ", target="opportunity"))
    html = _html(response)
    assert 'data-field-error="name"' in html and 'data-field-error="target"' in html


def test_it_edits_a_flow_and_keeps_the_steps_of_requests_under_way(people, login, big_flow):
    pending = _submitted(people)
    client = login(people["admin"])
    page = _html(client.get(f"/approvals/flows/{big_flow.pk}/edit/"))
    assert 'value="部门经理审批"' in page and 'value="500000"' in page
    response = client.post(
        f"/approvals/flows/{big_flow.pk}/edit/",
        _flow_post(
            name="大额合同审批",
            version=str(big_flow.version),
            condition_fact=["amount"],
            condition_op=["gte"],
            condition_value=["1000000"],
            step_name=["财务审核"],
            step_approver_kind=["role"],
            step_role=[str(Role.objects.get(default_key="finance").pk)],
            step_user=[""],
            step_mode=["any"],
        ),
    )
    assert response.status_code == 302
    big_flow.refresh_from_db()
    assert big_flow.conditions == [{"fact": "amount", "op": "gte", "value": "1000000"}]
    assert [s.name for s in big_flow.steps.all()] == ["财务审核"]
    assert pending.steps.count() == 3  # the request keeps its copy


def test_it_refuses_a_stale_flow_edit(people, login, big_flow):
    response = login(people["admin"]).post(
        f"/approvals/flows/{big_flow.pk}/edit/",
        _flow_post(name="大额合同审批", version=str(big_flow.version - 1 or 99)),
    )
    assert response.status_code == 400
    assert 'data-testid="form-error"' in _html(response)


def test_it_moves_a_flow_up(people, login, big_flow):
    other = records.flow("折扣审批", conditions=[], sort_order=50)
    client = login(people["admin"])
    response = client.post(f"/approvals/flows/{other.pk}/move/", {"direction": "up"})
    assert response.status_code == 302
    order = list(
        ApprovalFlow.objects.filter(target="contract")
        .order_by("sort_order")
        .values_list("name", flat=True)
    )
    # The defaults were 大额合同审批 then 外币合同审批; the new flow came last.
    assert order == ["大额合同审批", "折扣审批", "外币合同审批"]
    html = _html(client.get("/approvals/flows/"))
    assert html.index('data-flow="折扣审批"') < html.index('data-flow="外币合同审批"')


def test_it_deletes_and_restores_a_flow(people, login, big_flow):
    client = login(people["admin"])
    confirm = _html(client.get(f"/approvals/flows/{big_flow.pk}/delete/"))
    assert 'data-testid="confirm-form"' in confirm
    assert client.post(f"/approvals/flows/{big_flow.pk}/delete/").status_code == 302
    assert not ApprovalFlow.objects.filter(pk=big_flow.pk).exists()
    listed = _html(client.get("/approvals/flows/"))
    assert 'data-testid="deleted-flows"' in listed
    assert client.post(f"/approvals/flows/{big_flow.pk}/restore/").status_code == 302
    assert ApprovalFlow.objects.filter(pk=big_flow.pk).exists()


def test_it_shows_a_foreign_currency_request_in_its_currency(people, login):
    """The default flows send a contract in US dollars to finance; the queue shows its
    amount as it was submitted, the request's page the amount in the reporting currency."""
    set_rate(
        currency="USD",
        valid_on=timezone.localdate() - timedelta(days=90),
        rate=Decimal("7.1"),
        by=people["finance1"],
    )
    rep = people["rep_east1"]
    contract = records.contract(
        rep,
        records.customer(rep, "海外客户"),
        number="HT-USD-1",
        amount="12000",
        currency="USD",
        status="draft",
    )
    contracts.submit_contract(contract, by=rep)
    pending = approvals.pending_request(contract)
    assert pending.flow_name == "外币合同审批"
    html = _html(login(people["finance1"]).get("/approvals/"))
    assert "US$12,000.00" in html
    detail = _html(login(people["finance1"]).get(f"/approvals/{pending.pk}/"))
    assert "¥85,200.00" in detail  # 12,000 × 7.1, what the conditions compared
