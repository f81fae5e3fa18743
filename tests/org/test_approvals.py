"""The approval engine (tuoke.org.approvals): conditions, approvers from the org chart, the
decisions with their history and notifications, the approver's queue, flow configuration.

The engine is tested through a target registered here over contracts (``approval_target``),
which records the callbacks it gets; the real contract target is checked at the end."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404

from tests.contracts import records
from tuoke.core.errors import Conflict
from tuoke.core.models import AuditEntry, Notification
from tuoke.org import approvals
from tuoke.org.models import (
    ApprovalAction,
    ApprovalFlow,
    ApprovalRequest,
    ApprovalStep,
    OrgUnit,
    Role,
    User,
)

# --- The test target --------------------------------------------------------------------------


class Calls(list):
    """The callbacks the target got: (name, record pk, request pk, by)."""


def _facts(contract) -> dict:
    return {
        "amount": contract.amount,
        "discount": contract.discount,
        "foreign_currency": contract.currency != "CNY",
        "currency": contract.currency,
    }


def _target(calls: Calls) -> approvals.Target:
    from tuoke.contracts.models import Contract

    def callback(name):
        def record(contract, request, by):
            calls.append((name, contract.pk, request.pk, by))

        return record

    return approvals.Target(
        record_type="contract",
        label="合同",
        facts=(
            approvals.Fact("amount", "金额", "money"),
            approvals.Fact("discount", "折扣", "percent"),
            approvals.Fact("foreign_currency", "外币", "boolean"),
            approvals.Fact("currency", "币种", "text"),
        ),
        facts_of=_facts,
        describe=lambda c: (str(c), c.amount, c.currency),
        url_of=lambda c: f"/contracts/{c.pk}/",
        load=lambda pk: Contract.all_objects.filter(pk=pk).first(),
        on_approved=callback("approved"),
        on_rejected=callback("rejected"),
        on_returned=callback("returned"),
        on_withdrawn=callback("withdrawn"),
    )


@pytest.fixture
def calls(db):
    """Registers the test target over contracts for one test, then puts back what was there."""
    before = approvals.targets()
    made = Calls()
    approvals.register_target(_target(made))
    # The installation's default flows are replaced by each test's own.
    ApprovalFlow.all_objects.all().delete()
    yield made
    approvals.unregister_target("contract")
    if "contract" in before:
        approvals.register_target(before["contract"])


def _contract(owner, number="HT-T-001", amount="800000", currency="CNY", discount=None):
    made = records.contract(
        owner,
        records.customer(owner, f"{owner.username}的客户"),
        number=number,
        amount=amount,
        currency=currency,
        status="draft",
    )
    if discount is not None:
        made.discount = Decimal(discount)
        made.save(update_fields=["discount"])
    return made


def _finance():
    return Role.objects.get(default_key="finance")


def _flow(people, **kwargs):
    """Contracts of 500,000 or more: unit manager, his manager, then finance (any of them)."""
    kwargs.setdefault("name", "大额合同审批")
    kwargs.setdefault("target", "contract")
    kwargs.setdefault("conditions", [{"fact": "amount", "op": "gte", "value": "500000"}])
    kwargs.setdefault(
        "steps",
        [
            {"name": "部门经理审批", "approver_kind": "unit_manager"},
            {"name": "销售总监审批", "approver_kind": "next_manager"},
            {"name": "财务审核", "approver_kind": "role", "role": _finance()},
        ],
    )
    return approvals.create_flow(by=people["admin"], **kwargs)


def _approvers(request, position):
    step = request.steps.get(position=position)
    return sorted(u.username for u in step.approvers.all())


# --- Conditions -------------------------------------------------------------------------------


def test_it_normalises_conditions_per_fact_kind(calls):
    target = approvals.target("contract")
    cleaned = approvals.check_conditions(
        target,
        [
            {"fact": "amount", "op": "gte", "value": "500,000.00"},
            {"fact": "discount", "op": "gt", "value": 20},
            {"fact": "foreign_currency", "op": "is_true", "value": "whatever"},
            {"fact": "currency", "op": "ne", "value": " USD "},
        ],
    )
    assert cleaned == [
        {"fact": "amount", "op": "gte", "value": "500000"},
        {"fact": "discount", "op": "gt", "value": "20"},
        {"fact": "foreign_currency", "op": "is_true", "value": None},
        {"fact": "currency", "op": "ne", "value": "USD"},
    ]


@pytest.mark.parametrize(
    ("condition", "field", "code"),
    [
        ({"fact": "colour", "op": "eq", "value": "red"}, "conditions.0.fact", "invalid"),
        ({"op": "eq", "value": "red"}, "conditions.0.fact", "required"),
        ({"fact": "amount", "op": "is_true"}, "conditions.0.op", "invalid"),
        ({"fact": "amount", "value": "1"}, "conditions.0.op", "required"),
        ({"fact": "amount", "op": "gte", "value": "lots"}, "conditions.0.value", "invalid"),
        ({"fact": "amount", "op": "gte"}, "conditions.0.value", "required"),
        ({"fact": "amount", "op": "gte", "value": "NaN"}, "conditions.0.value", "invalid"),
        ({"fact": "discount", "op": "gte", "value": "120"}, "conditions.0.value", "invalid"),
        ({"fact": "currency", "op": "gte", "value": "USD"}, "conditions.0.op", "invalid"),
        ({"fact": "currency", "op": "eq", "value": "  "}, "conditions.0.value", "required"),
        ({"fact": "foreign_currency", "op": "eq", "value": "1"}, "conditions.0.op", "invalid"),
        ("amount >= 5", "conditions.0", "invalid"),
    ],
)
def test_it_refuses_bad_conditions_naming_the_part(calls, condition, field, code):
    with pytest.raises(ValidationError) as caught:
        approvals.check_conditions(approvals.target("contract"), [condition])
    assert field in caught.value.error_dict
    assert caught.value.error_dict[field][0].code == code


def test_it_refuses_conditions_that_are_not_a_list(calls):
    with pytest.raises(ValidationError) as caught:
        approvals.check_conditions(approvals.target("contract"), "amount")
    assert "conditions" in caught.value.error_dict


def test_it_picks_the_first_active_flow_whose_conditions_all_hold(people, calls):
    rep = people["rep_east1"]
    big = _flow(people, name="大额")
    foreign = _flow(
        people,
        name="外币大额",
        conditions=[
            {"fact": "foreign_currency", "op": "is_true"},
            {"fact": "amount", "op": "gte", "value": "100000"},
        ],
    )
    discount = _flow(
        people, name="高折扣", conditions=[{"fact": "discount", "op": "gte", "value": "20"}]
    )
    approvals.move_flow(foreign, up=True, by=people["admin"])  # tried before "大额"
    assert approvals.flow_for(_contract(rep, "T1", amount="900000")) == big
    assert approvals.flow_for(_contract(rep, "T2", amount="900000", currency="USD")) == foreign
    assert approvals.flow_for(_contract(rep, "T3", amount="200000", currency="USD")) == foreign
    assert approvals.flow_for(_contract(rep, "T4", amount="1000", discount="25")) == discount
    # No discount given: a condition on it does not hold.
    assert approvals.flow_for(_contract(rep, "T5", amount="1000")) is None
    approvals.update_flow(discount, by=people["admin"], active=False)
    assert approvals.flow_for(_contract(rep, "T6", amount="1000", discount="25")) is None
    approvals.delete_flow(big, by=people["admin"])
    assert approvals.flow_for(_contract(rep, "T7", amount="900000")) is None


def test_it_compares_text_facts_without_regard_to_case(people, calls):
    flow = _flow(people, conditions=[{"fact": "currency", "op": "eq", "value": "usd"}])
    rep = people["rep_east1"]
    assert approvals.flow_for(_contract(rep, "T1", currency="USD")) == flow
    assert approvals.flow_for(_contract(rep, "T2", currency="EUR")) is None


def test_it_needs_no_approval_for_records_of_unregistered_types(people):
    customer = records.customer(people["rep_east1"], "某客户")
    assert approvals.flow_for(customer) is None


# --- Approvers from the org chart ---------------------------------------------------------------


def _step(kind, **kwargs):
    return ApprovalStep(name="步骤", approver_kind=kind, **kwargs)


def test_it_finds_the_unit_manager_and_the_manager_above_him(people):
    rep = people["rep_east1"]
    assert approvals.resolve_approvers(
        _step("unit_manager"), submitter=rep, previous_manager=None
    ) == [people["manager_east"]]
    # Without a manager step before it: the unit manager's manager.
    assert approvals.resolve_approvers(
        _step("next_manager"), submitter=rep, previous_manager=None
    ) == [people["director"]]
    assert approvals.resolve_approvers(
        _step("next_manager"), submitter=rep, previous_manager=people["manager_east"]
    ) == [people["director"]]


def test_it_walks_up_when_the_submitter_manages_his_own_unit(people):
    manager = people["manager_east"]
    assert approvals.resolve_approvers(
        _step("unit_manager"), submitter=manager, previous_manager=None
    ) == [people["director"]]


def _person(username, unit, role_key="sales_rep"):
    person = User.objects.create(username=username, display_name=username, unit=unit)
    person.roles.add(Role.objects.get(default_key=role_key))
    return person


def test_it_walks_up_past_units_without_a_manager(people):
    from tuoke.org import services as org_services

    east = OrgUnit.objects.get(name="华东销售组")
    team = org_services.create_unit(name="华东二组", parent=east, by=people["admin"])
    newcomer = _person("newcomer", team)
    assert approvals.resolve_approvers(
        _step("unit_manager"), submitter=newcomer, previous_manager=None
    ) == [people["manager_east"]]
    assert approvals.resolve_approvers(
        _step("next_manager"), submitter=newcomer, previous_manager=people["manager_east"]
    ) == [people["director"]]


def test_it_finds_nobody_above_the_top_of_the_chart(people):
    director = people["director"]
    step = _step("unit_manager")
    assert approvals.resolve_approvers(step, submitter=director, previous_manager=None) == []
    assert (
        approvals.resolve_approvers(
            _step("next_manager"), submitter=people["rep_east1"], previous_manager=director
        )
        == []
    )


def test_it_skips_the_submitter_and_inactive_managers_when_walking_up(people):
    from tuoke.org import services as org_services

    # The sales department under the general management: the boss is above the director.
    sales = OrgUnit.objects.get(name="销售部")
    gm = OrgUnit.objects.get(name="总经办")
    org_services.update_unit(sales, by=None, parent=gm)
    east = OrgUnit.objects.get(name="华东销售组")
    # The east manager also manages a team below his unit, whose rep asks: after the manager
    # step (himself) comes the director, not the manager again.
    team = org_services.create_unit(
        name="华东二组", parent=east, manager=people["manager_east"], by=None
    )
    rep = _person("team_rep", team)
    manager = approvals.resolve_approvers(
        _step("unit_manager"), submitter=rep, previous_manager=None
    )
    assert manager == [people["manager_east"]]
    assert approvals.resolve_approvers(
        _step("next_manager"), submitter=rep, previous_manager=manager[0]
    ) == [people["director"]]
    # The director submits: his unit's manager is himself, so the boss is his unit manager.
    assert approvals.resolve_approvers(
        _step("unit_manager"), submitter=people["director"], previous_manager=None
    ) == [people["boss"]]
    # The director has left: the boss is next above the east manager.
    User.objects.filter(pk=people["director"].pk).update(is_active=False)
    assert approvals.resolve_approvers(
        _step("next_manager"), submitter=rep, previous_manager=people["manager_east"]
    ) == [people["boss"]]


def test_it_finds_everyone_holding_a_role_but_the_submitter(people):
    finance = _finance()
    second = User.objects.create(username="finance2", unit=people["finance1"].unit)
    second.roles.add(finance)
    gone = User.objects.create(username="finance3", unit=people["finance1"].unit, is_active=False)
    gone.roles.add(finance)
    found = approvals.resolve_approvers(
        _step("role", role=finance), submitter=people["rep_east1"], previous_manager=None
    )
    assert [u.username for u in found] == ["finance1", "finance2"]
    found = approvals.resolve_approvers(
        _step("role", role=finance), submitter=second, previous_manager=None
    )
    assert [u.username for u in found] == ["finance1"]
    finance.deleted_at = finance.updated_at
    finance.save(update_fields=["deleted_at"])
    assert (
        approvals.resolve_approvers(
            _step("role", role=finance), submitter=people["rep_east1"], previous_manager=None
        )
        == []
    )


def test_it_finds_a_named_person_only_while_active(people):
    boss = people["boss"]
    step = _step("user", user=boss)
    assert approvals.resolve_approvers(
        step, submitter=people["rep_east1"], previous_manager=None
    ) == [boss]
    assert approvals.resolve_approvers(step, submitter=boss, previous_manager=None) == []
    boss.is_active = False
    assert (
        approvals.resolve_approvers(step, submitter=people["rep_east1"], previous_manager=None)
        == []
    )


# --- Submitting ---------------------------------------------------------------------------------


def _code(caught) -> tuple[str, str]:
    (field, errors), *_ = caught.value.error_dict.items()
    return field, errors[0].code


def test_it_copies_the_steps_with_their_approvers_when_submitted(people, calls):
    flow = _flow(people)
    rep = people["rep_east1"]
    contract = _contract(rep)
    request = approvals.submit(contract, by=rep, comment="请审批")
    assert request.flow == flow and request.flow_name == "大额合同审批"
    assert request.owner == rep and request.status == "pending" and request.current_step == 1
    assert request.title == str(contract) and request.amount == Decimal("800000")
    assert request.currency == "CNY"
    steps = list(request.steps.order_by("position"))
    assert [(s.position, s.name, s.status) for s in steps] == [
        (1, "部门经理审批", "pending"),
        (2, "销售总监审批", "waiting"),
        (3, "财务审核", "waiting"),
    ]
    assert _approvers(request, 1) == ["manager_east"]
    assert _approvers(request, 2) == ["director"]
    assert _approvers(request, 3) == ["finance1"]
    action = request.actions.get()
    assert (action.kind, action.actor, action.comment) == ("submit", rep, "请审批")
    assert approvals.pending_request(contract) == request


def test_it_needs_no_request_when_no_flow_applies(people, calls):
    _flow(people)
    rep = people["rep_east1"]
    assert approvals.submit(_contract(rep, amount="1000"), by=rep) is None
    assert not ApprovalRequest.objects.exists()


def test_it_never_makes_the_submitter_his_own_approver(people, calls):
    _flow(
        people,
        steps=[
            {"name": "部门经理审批", "approver_kind": "unit_manager"},
            {"name": "财务审核", "approver_kind": "role", "role": _finance()},
        ],
    )
    manager = people["manager_east"]
    request = approvals.submit(_contract(manager), by=manager)
    assert _approvers(request, 1) == ["director"]
    assert _approvers(request, 2) == ["finance1"]


def test_it_skips_a_manager_step_with_nobody_above_the_submitter_and_says_so(people, calls):
    _flow(people)
    manager = people["manager_east"]
    request = approvals.submit(_contract(manager), by=manager)
    # 部门经理审批 goes up to the director; nobody is above him for 销售总监审批.
    assert [s.name for s in request.steps.order_by("position")] == ["部门经理审批", "财务审核"]
    assert _approvers(request, 1) == ["director"]
    assert _approvers(request, 2) == ["finance1"]
    skip = request.actions.get(kind="skip")
    assert "销售总监审批" in skip.comment and "孙总监" in skip.comment
    assert request.status == "pending"


def test_it_approves_at_once_when_every_step_is_skipped(people, calls):
    _flow(
        people,
        steps=[
            {"name": "部门经理审批", "approver_kind": "unit_manager"},
            {"name": "上级审批", "approver_kind": "next_manager"},
        ],
    )
    boss = people["boss"]
    request = approvals.submit(_contract(boss), by=boss)
    assert request.status == "approved" and request.decided_at is not None
    assert not request.steps.exists()
    assert request.actions.filter(kind="skip").count() == 2
    assert approvals.pending_request(_contract(boss)) is None


def test_it_refuses_a_role_step_nobody_can_approve_naming_the_step(people, calls):
    _flow(people)
    finance1 = people["finance1"]
    with pytest.raises(ValidationError) as caught:
        approvals.submit(_contract(finance1, "HT-T-002"), by=finance1)
    assert _code(caught) == ("flow", "no_approver")
    message = caught.value.error_dict["flow"][0].messages[0]
    assert "财务审核" in message
    assert not ApprovalRequest.objects.exists()


def test_it_refuses_a_second_request_while_one_is_pending(people, calls):
    _flow(people)
    rep = people["rep_east1"]
    contract = _contract(rep)
    approvals.submit(contract, by=rep)
    with pytest.raises(ValidationError) as caught:
        approvals.submit(contract, by=rep)
    assert _code(caught) == ("status", "pending")
    assert ApprovalRequest.objects.count() == 1


def test_it_audits_the_request_and_its_status_changes(people, calls):
    _flow(people)
    rep = people["rep_east1"]
    request = approvals.submit(_contract(rep), by=rep)
    approvals.approve(request, by=people["manager_east"])
    approvals.reject(request, by=people["director"], comment="价格太低")
    kinds = [
        (e.kind, {c["field"]: c["new"] for c in e.changes})
        for e in AuditEntry.objects.filter(
            object_id=request.pk, content_type__model="approvalrequest"
        ).order_by("at", "pk")
    ]
    assert kinds[0][0] == "create"
    assert kinds[1] == ("update", {"current_step": "2"})
    assert kinds[2][0] == "update" and "status" in kinds[2][1]


# --- Deciding -----------------------------------------------------------------------------------


def test_it_walks_a_request_through_every_step_to_approval(people, calls):
    _flow(people)
    rep = people["rep_east1"]
    contract = _contract(rep)
    request = approvals.submit(contract, by=rep)
    approvals.approve(request, by=people["manager_east"], comment="同意")
    assert request.current_step == 2 and request.status == "pending"
    assert calls == []
    approvals.approve(request, by=people["director"])
    assert request.current_step == 3
    approvals.approve(request, by=people["finance1"], comment="款项条件可行")
    assert request.status == "approved" and request.current_step is None
    assert request.decided_at is not None
    assert calls == [("approved", contract.pk, request.pk, people["finance1"])]
    assert [s.status for s in request.steps.order_by("position")] == ["approved"] * 3
    assert [
        (a.kind, a.actor.username, a.comment) for a in request.actions.order_by("at", "pk")
    ] == [
        ("submit", "rep_east1", ""),
        ("approve", "manager_east", "同意"),
        ("approve", "director", ""),
        ("approve", "finance1", "款项条件可行"),
    ]
    assert approvals.pending_request(contract) is None


def test_it_refuses_a_decision_from_someone_who_is_not_an_approver_of_the_current_step(
    people, calls
):
    _flow(people)
    rep = people["rep_east1"]
    request = approvals.submit(_contract(rep), by=rep)
    for outsider in ("director", "finance1", "rep_east2", "rep_south1", "boss", "rep_east1"):
        with pytest.raises(approvals.ApprovalDenied) as caught:
            approvals.approve(request, by=people[outsider])
        assert caught.value.code == "not_your_step"
        with pytest.raises(approvals.ApprovalDenied):
            approvals.reject(request, by=people[outsider], comment="不行")
    request.refresh_from_db()
    assert request.status == "pending" and request.current_step == 1


def test_it_refuses_a_second_decision_on_a_step_already_decided(people, calls):
    _flow(people)
    rep = people["rep_east1"]
    request = approvals.submit(_contract(rep), by=rep)
    stale = ApprovalRequest.objects.get(pk=request.pk)
    approvals.approve(request, by=people["manager_east"])
    with pytest.raises(ValidationError) as caught:
        approvals.approve(stale, by=people["manager_east"])
    assert _code(caught) == ("status", "already_decided")
    approvals.reject(request, by=people["director"], comment="不同意")
    with pytest.raises(ValidationError) as caught:
        approvals.approve(stale, by=people["director"])
    assert _code(caught) == ("status", "not_pending")
    with pytest.raises(ValidationError) as caught:
        approvals.withdraw(stale, by=rep)
    assert _code(caught) == ("status", "not_pending")
    assert ApprovalAction.objects.filter(request=request, kind="approve").count() == 1


def test_it_takes_any_one_approver_of_an_any_step(people, calls):
    second = _person("finance2", people["finance1"].unit, "finance")
    _flow(people, steps=[{"name": "财务审核", "approver_kind": "role", "role": _finance()}])
    rep = people["rep_east1"]
    request = approvals.submit(_contract(rep), by=rep)
    assert _approvers(request, 1) == ["finance1", "finance2"]
    assert request in approvals.queue(second) and request in approvals.queue(people["finance1"])
    approvals.approve(request, by=second)
    assert request.status == "approved"
    with pytest.raises(ValidationError) as caught:
        approvals.approve(request, by=people["finance1"])
    assert _code(caught) == ("status", "not_pending")


def test_it_waits_for_every_approver_of_an_all_step(people, calls):
    second = _person("finance2", people["finance1"].unit, "finance")
    _flow(
        people,
        steps=[
            {"name": "财务会签", "approver_kind": "role", "role": _finance(), "mode": "all"},
            {"name": "总经理审批", "approver_kind": "user", "user": people["boss"]},
        ],
    )
    rep = people["rep_east1"]
    request = approvals.submit(_contract(rep), by=rep)
    approvals.approve(request, by=people["finance1"])
    assert request.current_step == 1
    assert list(approvals.queue(people["finance1"])) == []
    assert list(approvals.queue(second)) == [request]
    assert not approvals.may_decide(people["finance1"], request)
    with pytest.raises(ValidationError) as caught:
        approvals.approve(request, by=people["finance1"])
    assert _code(caught) == ("status", "already_decided")
    approvals.approve(request, by=second)
    assert request.current_step == 2
    assert list(approvals.queue(people["boss"])) == [request]
    approvals.approve(request, by=people["boss"])
    assert request.status == "approved"


def test_it_rejects_with_a_comment_and_cancels_the_steps_after(people, calls):
    _flow(people)
    rep = people["rep_east1"]
    contract = _contract(rep)
    request = approvals.submit(contract, by=rep)
    approvals.approve(request, by=people["manager_east"])
    for empty in ("", "   ", None):
        with pytest.raises(ValidationError) as caught:
            approvals.reject(request, by=people["director"], comment=empty)
        assert _code(caught) == ("comment", "required")
    approvals.reject(request, by=people["director"], comment="折扣过大")
    assert request.status == "rejected" and request.decided_at is not None
    assert [s.status for s in request.steps.order_by("position")] == [
        "approved",
        "rejected",
        "cancelled",
    ]
    assert calls == [("rejected", contract.pk, request.pk, people["director"])]
    last = request.actions.order_by("at", "pk").last()
    assert (last.kind, last.comment, last.step.position) == ("reject", "折扣过大", 2)


def test_it_returns_for_changes_and_takes_the_record_again(people, calls):
    _flow(people)
    rep = people["rep_east1"]
    contract = _contract(rep)
    first = approvals.submit(contract, by=rep)
    with pytest.raises(ValidationError) as caught:
        approvals.return_for_changes(first, by=people["manager_east"], comment="")
    assert _code(caught) == ("comment", "required")
    approvals.return_for_changes(first, by=people["manager_east"], comment="请补充付款条件")
    assert first.status == "returned"
    assert [s.status for s in first.steps.order_by("position")] == [
        "returned",
        "cancelled",
        "cancelled",
    ]
    assert calls == [("returned", contract.pk, first.pk, people["manager_east"])]
    second = approvals.submit(contract, by=rep, comment="已补充")
    assert second.pk != first.pk and second.status == "pending"
    assert approvals.history(contract) == [second, first]


def test_it_lets_only_the_submitter_withdraw_a_pending_request(people, calls):
    _flow(people)
    rep = people["rep_east1"]
    contract = _contract(rep)
    request = approvals.submit(contract, by=rep)
    for other in ("manager_east", "rep_east2", "boss"):
        with pytest.raises(approvals.ApprovalDenied) as caught:
            approvals.withdraw(request, by=people[other])
        assert caught.value.code == "not_submitter"
    approvals.withdraw(request, by=rep, comment="金额有误")
    assert request.status == "withdrawn" and request.current_step is None
    assert {s.status for s in request.steps.all()} == {"cancelled"}
    assert calls == [("withdrawn", contract.pk, request.pk, rep)]
    assert list(approvals.queue(people["manager_east"])) == []


def test_it_sends_the_decided_signal_once_per_decision(people, calls):
    got = []

    def receiver(sender, request, by, **kwargs):
        got.append((request.status, by.username))

    approvals.approval_decided.connect(receiver)
    try:
        _flow(people, steps=[{"name": "部门经理审批", "approver_kind": "unit_manager"}])
        rep = people["rep_east1"]
        approvals.approve(approvals.submit(_contract(rep), by=rep), by=people["manager_east"])
        approvals.withdraw(approvals.submit(_contract(rep, "HT-T-002"), by=rep), by=rep)
    finally:
        approvals.approval_decided.disconnect(receiver)
    assert got == [("approved", "manager_east"), ("withdrawn", "rep_east1")]


# --- Flows changed under way ---------------------------------------------------------------------


def test_it_keeps_a_request_as_submitted_when_its_flow_changes_or_goes(people, calls):
    flow = _flow(people)
    rep = people["rep_east1"]
    request = approvals.submit(_contract(rep), by=rep)
    approvals.update_flow(
        flow,
        by=people["admin"],
        name="改名后的流程",
        steps=[{"name": "总经理审批", "approver_kind": "user", "user": people["boss"]}],
    )
    request.refresh_from_db()
    assert request.flow_name == "大额合同审批"
    assert [s.name for s in request.steps.order_by("position")] == [
        "部门经理审批",
        "销售总监审批",
        "财务审核",
    ]
    approvals.approve(request, by=people["manager_east"])
    approvals.delete_flow(flow, by=people["admin"])
    ApprovalFlow.all_objects.filter(pk=flow.pk).delete()  # purged, even
    request.refresh_from_db()
    assert request.flow is None and request.flow_name == "大额合同审批"
    approvals.approve(request, by=people["director"])
    approvals.approve(request, by=people["finance1"])
    assert request.status == "approved"


# --- Notifications ------------------------------------------------------------------------------


def _notified(kind="approval"):
    return sorted(
        (n.recipient.username, n.title, n.url)
        for n in Notification.objects.filter(kind=kind).select_related("recipient")
    )


def test_it_notifies_each_step_s_approvers_and_then_the_submitter(
    people, calls, django_capture_on_commit_callbacks
):
    from django.urls import NoReverseMatch, reverse

    _flow(people)
    rep = people["rep_east1"]
    contract = _contract(rep)
    try:
        url = reverse("approvals:request_detail", args=[1])
    except NoReverseMatch:
        url = None
    with django_capture_on_commit_callbacks(execute=True):
        request = approvals.submit(contract, by=rep)
    link = approvals.request_url(request)
    if url is not None:
        assert link == reverse("approvals:request_detail", args=[request.pk])
    assert _notified() == [("manager_east", f"张伟 asks for your approval: {contract}", link)]
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        approvals.approve(request, by=people["manager_east"])
    assert [n[0] for n in _notified()] == ["director"]
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        approvals.approve(request, by=people["director"])
    assert [n[0] for n in _notified()] == ["finance1"]
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        approvals.approve(request, by=people["finance1"])
    assert _notified() == [("rep_east1", f"Approved: {contract}", link)]


def test_it_tells_the_submitter_why_his_request_was_rejected_or_returned(
    people, calls, django_capture_on_commit_callbacks
):
    _flow(people)
    rep = people["rep_east1"]
    first = approvals.submit(_contract(rep), by=rep)
    second = approvals.submit(_contract(rep, "HT-T-002"), by=rep)
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        approvals.reject(first, by=people["manager_east"], comment="客户信用不足")
        approvals.return_for_changes(second, by=people["manager_east"], comment="补充附件")
    sent = Notification.objects.filter(kind="approval").order_by("pk")
    assert [(n.recipient.username, n.title, n.body) for n in sent] == [
        ("rep_east1", f"Rejected: {first.title}", "客户信用不足"),
        ("rep_east1", f"Returned for changes: {second.title}", "补充附件"),
    ]


def test_it_writes_each_notification_in_its_recipient_s_language(
    people, calls, django_capture_on_commit_callbacks, monkeypatch
):
    from django.utils import translation

    from tuoke.core import notifications

    written = []
    real = notifications.notify

    def notify(recipients, **kwargs):
        written.append((sorted(u.username for u in recipients), translation.get_language()))
        return real(recipients, **kwargs)

    monkeypatch.setattr(notifications, "notify", notify)
    second = _person("finance2", people["finance1"].unit, "finance")
    User.objects.filter(pk=second.pk).update(language="en")
    User.objects.filter(username="finance1").update(language="zh-hans")
    _flow(people, steps=[{"name": "财务审核", "approver_kind": "role", "role": _finance()}])
    rep = people["rep_east1"]
    with django_capture_on_commit_callbacks(execute=True):
        approvals.submit(_contract(rep), by=rep)
    assert sorted(written) == [(["finance1"], "zh-hans"), (["finance2"], "en")]


def test_it_sends_nothing_when_the_decision_is_rolled_back(people, calls):
    _flow(people)
    rep = people["rep_east1"]
    Notification.objects.all().delete()
    approvals.submit(_contract(rep), by=rep)  # the test's transaction never commits
    assert not Notification.objects.exists()


# --- Queue and scope ----------------------------------------------------------------------------


def test_it_queues_what_waits_for_each_approver(people, calls):
    _flow(people)
    rep, rep2 = people["rep_east1"], people["rep_east2"]
    first = approvals.submit(_contract(rep), by=rep)
    second = approvals.submit(_contract(rep2, "HT-T-002"), by=rep2)
    assert list(approvals.queue(people["manager_east"])) == [first, second]
    assert list(approvals.queue(people["director"])) == []
    approvals.approve(first, by=people["manager_east"])
    assert list(approvals.queue(people["manager_east"])) == [second]
    assert list(approvals.queue(people["director"])) == [first]
    assert approvals.may_decide(people["director"], first)
    assert not approvals.may_decide(people["manager_east"], first)
    assert approvals.may_withdraw(rep, first) and not approvals.may_withdraw(rep2, first)


def test_it_shows_a_request_to_the_submitter_his_managers_and_its_approvers_only(people, calls):
    _flow(people)
    rep = people["rep_east1"]
    request = approvals.submit(_contract(rep), by=rep)
    for who in ("rep_east1", "manager_east", "director", "finance1", "boss"):
        assert approvals.get_request_for(people[who], request.pk) == request, who
        assert request in approvals.requests_of(people[who])
    for who in ("rep_east2", "rep_south1", "manager_south", "cs1", "marketing1"):
        with pytest.raises(Http404):
            approvals.get_request_for(people[who], request.pk)
        assert request not in approvals.requests_of(people[who])
        with pytest.raises(approvals.ApprovalDenied):
            approvals.approve(request, by=people[who])


def test_it_reads_the_queue_in_a_constant_number_of_queries(
    people, calls, django_assert_max_num_queries
):
    _flow(people)
    manager = people["manager_east"]
    for n in range(6):
        rep = people["rep_east1"] if n % 2 else people["rep_east2"]
        approvals.submit(_contract(rep, f"HT-Q-{n}"), by=rep)
    manager = User.objects.get(pk=manager.pk)
    with django_assert_max_num_queries(4):
        found = list(approvals._detailed(approvals.queue(manager)))
        for request in found:
            [a.username for step in request.steps.all() for a in step.approvers.all()]
            [a.actor for a in request.actions.all()]
            str(request.owner)
    assert len(found) == 6


def test_it_gives_each_record_its_history_newest_first(
    people, calls, django_assert_max_num_queries
):
    _flow(people)
    rep = people["rep_east1"]
    contract = _contract(rep)
    first = approvals.submit(contract, by=rep)
    approvals.withdraw(first, by=rep)
    second = approvals.submit(contract, by=rep)
    approvals.approve(second, by=people["manager_east"])
    with django_assert_max_num_queries(4):
        found = approvals.history(contract)
        steps = [
            [(s.name, [a.username for a in s.approvers.all()]) for s in r.steps.all()]
            for r in found
        ]
        kinds = [[a.kind for a in r.actions.all()] for r in found]
    assert found == [second, first]
    assert steps[0][0] == ("部门经理审批", ["manager_east"])
    assert kinds == [["submit", "approve"], ["submit", "withdraw"]]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (SQLite has none)"
)
def test_it_lets_only_one_of_two_simultaneous_decisions_through(people, calls):
    _person("finance2", people["finance1"].unit, "finance")
    _flow(people, steps=[{"name": "财务审核", "approver_kind": "role", "role": _finance()}])
    rep = people["rep_east1"]
    request = approvals.submit(_contract(rep), by=rep)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(username):
        try:
            approver = User.objects.get(username=username)
            stale = ApprovalRequest.objects.get(pk=request.pk)
            barrier.wait()
            approvals.approve(stale, by=approver)
            outcomes.append("approved")
        except ValidationError as exc:
            outcomes.append(next(iter(exc.error_dict.values()))[0].code)
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(u,)) for u in ("finance1", "finance2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["approved", "not_pending"]
    assert len(calls) == 1
    assert ApprovalAction.objects.filter(request=request, kind="approve").count() == 1


# --- Flow configuration --------------------------------------------------------------------------


def test_it_creates_a_flow_with_its_steps_audited(people, calls):
    flow = _flow(people, description="五十万以上")
    assert (
        flow.sort_order == 10
        and flow.active
        and flow.conditions == [{"fact": "amount", "op": "gte", "value": "500000"}]
    )
    steps = list(flow.steps.order_by("sort_order"))
    assert [(s.name, s.approver_kind, s.mode, s.role) for s in steps] == [
        ("部门经理审批", "unit_manager", "any", None),
        ("销售总监审批", "next_manager", "any", None),
        ("财务审核", "role", "any", _finance()),
    ]
    entries = AuditEntry.objects.filter(object_id=flow.pk, content_type__model="approvalflow")
    assert {e.kind for e in entries} == {"create", "update"}
    steps_change = next(c for e in entries for c in e.changes if c["field"] == "steps")
    assert "1. 部门经理审批" in steps_change["new"] and "3. 财务审核" in steps_change["new"]
    second = _flow(people, name="外币合同审批", conditions=[])
    assert second.sort_order == 20


@pytest.mark.parametrize(
    ("facts", "field", "code"),
    [
        ({"name": "  "}, "name", "required"),
        ({"name": "名" * 61}, "name", "invalid"),
        ({"target": ""}, "target", "required"),
        ({"target": "banana"}, "target", "unknown_target"),
        ({"steps": []}, "steps", "no_steps"),
        ({"steps": [{"approver_kind": "unit_manager"}]}, "steps.0.name", "required"),
        ({"steps": [{"name": "审批", "approver_kind": "ceo"}]}, "steps.0.approver_kind", "invalid"),
        ({"steps": [{"name": "审批"}]}, "steps.0.approver_kind", "required"),
        ({"steps": [{"name": "审批", "approver_kind": "role"}]}, "steps.0.role", "required"),
        (
            {"steps": [{"name": "审批", "approver_kind": "role", "role": 999999}]},
            "steps.0.role",
            "invalid",
        ),
        ({"steps": [{"name": "审批", "approver_kind": "user"}]}, "steps.0.user", "required"),
        (
            {"steps": [{"name": "审批", "approver_kind": "unit_manager", "mode": "most"}]},
            "steps.0.mode",
            "invalid",
        ),
        (
            {"conditions": [{"fact": "amount", "op": "gte", "value": "x"}]},
            "conditions.0.value",
            "invalid",
        ),
    ],
)
def test_it_refuses_bad_flows_naming_the_field(people, calls, facts, field, code):
    with pytest.raises(ValidationError) as caught:
        _flow(people, **facts)
    assert _code(caught) == (field, code)
    assert not ApprovalFlow.all_objects.exists()


def test_it_refuses_a_step_naming_someone_who_has_left(people, calls):
    gone = _person("gone", people["rep_east1"].unit)
    User.objects.filter(pk=gone.pk).update(is_active=False)
    with pytest.raises(ValidationError) as caught:
        _flow(people, steps=[{"name": "审批", "approver_kind": "user", "user": gone.pk}])
    assert _code(caught) == ("steps.0.user", "invalid")


def test_it_lets_only_administrators_change_flows(people, calls):
    with pytest.raises(PermissionDenied):
        approvals.create_flow(
            name="流程",
            target="contract",
            by=people["director"],
            steps=[{"name": "审批", "approver_kind": "unit_manager"}],
        )
    flow = _flow(people)
    for change in (
        lambda by: approvals.update_flow(flow, by=by, name="新名"),
        lambda by: approvals.move_flow(flow, up=True, by=by),
        lambda by: approvals.delete_flow(flow, by=by),
    ):
        with pytest.raises(PermissionDenied):
            change(people["boss"])


def test_it_updates_a_flow_checking_the_version(people, calls):
    admin = people["admin"]
    flow = _flow(people)
    approvals.update_flow(
        flow,
        by=admin,
        version=flow.version,
        name="大额审批",
        conditions=[{"fact": "discount", "op": "gte", "value": "15"}],
        active=False,
    )
    flow.refresh_from_db()
    assert (flow.name, flow.active, flow.version) == ("大额审批", False, 2)
    assert flow.conditions == [{"fact": "discount", "op": "gte", "value": "15"}]
    with pytest.raises(Conflict):
        approvals.update_flow(flow, by=admin, version=1, name="再改")
    with pytest.raises(ValidationError) as caught:
        approvals.update_flow(flow, by=admin, colour="red")
    assert _code(caught) == ("colour", "invalid")


def test_it_replaces_the_steps_moving_the_version_and_auditing_them(people, calls):
    admin = people["admin"]
    flow = _flow(people)
    approvals.update_flow(
        flow,
        by=admin,
        version=1,
        steps=[{"name": "总经理审批", "approver_kind": "user", "user": people["boss"].pk}],
    )
    flow.refresh_from_db()
    assert flow.version == 2
    assert [(s.name, s.user) for s in flow.steps.all()] == [("总经理审批", people["boss"])]
    change = (
        AuditEntry.objects.filter(object_id=flow.pk, content_type__model="approvalflow")
        .order_by("-at", "-pk")
        .first()
        .changes[0]
    )
    assert change["field"] == "steps"
    assert "部门经理审批" in change["old"] and "总经理审批" in change["new"]
    with pytest.raises(Conflict):
        approvals.update_flow(
            flow, by=admin, version=1, steps=[{"name": "x", "approver_kind": "unit_manager"}]
        )


def test_it_moves_flows_up_and_down_within_their_target(people, calls):
    admin = people["admin"]
    first, second, third = (_flow(people, name=n) for n in ("一", "二", "三"))
    approvals.move_flow(third, up=True, by=admin)
    order = list(ApprovalFlow.objects.filter(target="contract").order_by("sort_order"))
    assert [f.name for f in order] == ["一", "三", "二"]
    approvals.move_flow(first, up=False, by=admin)
    approvals.move_flow(second, up=False, by=admin)  # last already: nothing changes
    order = list(ApprovalFlow.objects.filter(target="contract").order_by("sort_order"))
    assert [f.name for f in order] == ["三", "一", "二"]


def test_it_deletes_and_restores_a_flow(people, calls):
    admin = people["admin"]
    flow = _flow(people)
    approvals.delete_flow(flow, by=admin)
    assert not ApprovalFlow.objects.filter(pk=flow.pk).exists()
    approvals.restore_flow(flow, by=admin)
    assert ApprovalFlow.objects.filter(pk=flow.pk).exists()
    assert flow.steps.count() == 3


# --- The contract target of tuoke.contracts -------------------------------------------------------


def test_it_has_the_contract_target_registered_by_the_contracts_app(people):
    target = approvals.targets().get("contract")
    if target is None:
        pytest.skip("the contracts app has not registered its approval target yet")
    assert {f.key: f.kind for f in target.facts} == {
        "amount": "money",
        "discount": "percent",
        "foreign_currency": "boolean",
        "currency": "text",
    }
    rep = people["rep_east1"]
    contract = _contract(rep, amount="800000")
    assert target.load(contract.pk) == contract
    facts = target.facts_of(contract)
    assert facts["amount"] == Decimal("800000") and facts["foreign_currency"] is False
    title, amount, currency = target.describe(contract)
    assert contract.number in title and amount == Decimal("800000") and currency == "CNY"
