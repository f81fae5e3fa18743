"""Contract services: drafting (numbers, checks), editing drafts and not pending ones,
submitting through the default approval flows or straight to effective, the lifecycle hook,
completing, terminating, renewals, the recycle bin, transfers, access and the settings."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from tests.contracts import records
from tuoke.contracts import services
from tuoke.contracts.models import Contract, ContractSettings, SalesCredit
from tuoke.core.audit import trail_of
from tuoke.core.errors import Conflict
from tuoke.core.models import ExchangeRate
from tuoke.customers.models import LifecycleStatus
from tuoke.customers.services import create_customer, delete_customer
from tuoke.org import approvals
from tuoke.org.models import ApprovalRequest


def _codes(exc: ValidationError) -> dict[str, list[str]]:
    return {f: [e.code for e in errors] for f, errors in exc.error_dict.items()}


def _number(n: int, day: date | None = None) -> str:
    day = day or timezone.localdate()
    return f"HT{day:%Y%m}-{n:04d}"


# --- Drafting -----------------------------------------------------------------------------------


def test_it_drafts_a_contract_numbered_from_the_sequence(rep_east, customer):
    first = services.create_contract(
        customer=customer, title="MES 一期", amount="120,000.5", by=rep_east
    )
    second = services.create_contract(customer=customer, title="MES 二期", amount=1, by=rep_east)
    assert (first.number, second.number) == (_number(1), _number(2))
    assert first.status == "draft"
    assert first.owner == rep_east
    assert first.amount == Decimal("120000.50")
    assert first.currency == "CNY"
    entry = trail_of(first).first()
    assert entry.kind == "create"
    assert entry.actor == rep_east
    assert {"field": "number", "label": "contract number", "old": "", "new": _number(1)} in (
        entry.changes
    )


def test_it_takes_a_number_given_by_hand_and_skips_it_later(rep_east, customer):
    given = services.create_contract(
        customer=customer, title="手工编号", amount=1, by=rep_east, number=_number(1)
    )
    drawn = services.create_contract(customer=customer, title="自动编号", amount=1, by=rep_east)
    assert given.number == _number(1)
    assert drawn.number == _number(2)


def test_it_refuses_a_number_taken_even_by_a_deleted_contract(rep_east, customer, draft):
    services.delete_contract(draft, by=rep_east)
    with pytest.raises(ValidationError) as caught:
        services.create_contract(
            customer=customer, title="重复", amount=1, by=rep_east, number=draft.number
        )
    assert _codes(caught.value) == {"number": ["number_taken"]}
    assert draft.number in caught.value.message_dict["number"][0]


@pytest.mark.parametrize(
    ("facts", "field", "code"),
    [
        ({"title": " "}, "title", "required"),
        ({"amount": None}, "amount", "required"),
        ({"amount": "0"}, "amount", "invalid"),
        ({"amount": "-5"}, "amount", "invalid"),
        ({"amount": "abc"}, "amount", "invalid"),
        ({"currency": "RMB1"}, "currency", "invalid"),
        ({"currency": "元"}, "currency", "invalid"),
        ({"discount": "100.5"}, "discount", "invalid"),
        ({"discount": "-1"}, "discount", "invalid"),
        ({"starts_on": date(2026, 2, 1), "ends_on": date(2026, 1, 31)}, "ends_on", "invalid"),
        ({"signed_on": "2026-13-01"}, "signed_on", "invalid"),
        ({"number": "X" * 41}, "number", "invalid"),
    ],
)
def test_it_refuses_bad_facts(rep_east, customer, facts, field, code):
    values = {"title": "合同", "amount": "1000", **facts}
    with pytest.raises(ValidationError) as caught:
        services.create_contract(customer=customer, by=rep_east, **values)
    assert _codes(caught.value) == {field: [code]}
    assert not Contract.all_objects.exists()


def test_it_refuses_a_customer_in_the_recycle_bin(rep_east, customer):
    delete_customer(customer, by=rep_east)
    with pytest.raises(ValidationError) as caught:
        services.create_contract(customer=customer, title="合同", amount=1, by=rep_east)
    assert caught.value.message_dict == {"customer": ["This customer is in the recycle bin."]}


def test_it_refuses_an_opportunity_of_another_customer(rep_east, customer):
    from tuoke.sales.services import create_opportunity

    other = create_customer(by=rep_east, short_name="远航物流")
    opp = create_opportunity(customer=other, title="WMS", by=rep_east)
    with pytest.raises(ValidationError) as caught:
        services.create_contract(
            customer=customer, title="合同", amount=1, by=rep_east, opportunity=opp
        )
    assert _codes(caught.value) == {"opportunity": ["other_customer"]}


def test_a_won_opportunity_offers_the_facts_of_its_contract(rep_east, customer):
    from tuoke.sales.services import create_opportunity

    opp = create_opportunity(
        customer=customer, title="MES 一期", by=rep_east, amount=Decimal("380000"), currency="CNY"
    )
    facts = services.draft_from_opportunity(opp)
    assert facts == {
        "customer": customer,
        "opportunity": opp,
        "title": "MES 一期",
        "amount": Decimal("380000.00"),
        "currency": "CNY",
        "owner": rep_east,
    }
    contract = services.create_contract(by=rep_east, **facts)
    assert contract.opportunity == opp


def test_it_drafts_the_payment_plan_given(rep_east, customer):
    contract = services.create_contract(
        customer=customer,
        title="分期合同",
        amount="300000",
        by=rep_east,
        instalments=[
            {"due_on": date(2026, 3, 31), "amount": "100000"},
            {"due_on": date(2026, 6, 30), "amount": "200000", "note": "验收款"},
        ],
    )
    plan = list(contract.instalments.order_by("position").values_list("due_on", "amount", "note"))
    assert plan == [
        (date(2026, 3, 31), Decimal("100000.00"), ""),
        (date(2026, 6, 30), Decimal("200000.00"), "验收款"),
    ]


def test_a_plan_above_the_amount_refuses_the_whole_contract(rep_east, customer):
    with pytest.raises(ValidationError) as caught:
        services.create_contract(
            customer=customer,
            title="分期合同",
            amount="100000",
            by=rep_east,
            instalments=[{"due_on": date(2026, 3, 31), "amount": "100001"}],
        )
    assert "instalments" in caught.value.error_dict
    assert not Contract.all_objects.exists()


# --- Editing ------------------------------------------------------------------------------------


def test_it_edits_a_draft_with_the_version_check(rep_east, draft):
    version = draft.version
    changed = services.update_contract(
        draft,
        by=rep_east,
        version=version,
        title="MES 一期（修订）",
        amount="150000",
        discount="5",
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
    )
    assert changed.version == version + 1
    stored = Contract.objects.get(pk=draft.pk)
    assert (stored.title, stored.amount, stored.discount) == (
        "MES 一期（修订）",
        Decimal("150000.00"),
        Decimal("5.00"),
    )
    fields = {c["field"] for c in trail_of(stored).first().changes}
    assert fields == {"title", "amount", "discount", "starts_on", "ends_on"}
    with pytest.raises(Conflict):
        services.update_contract(stored, by=rep_east, version=version, title="过时的修改")


def test_editing_a_pending_contract_is_refused(rep_east, large_draft):
    pending = services.submit_contract(large_draft, by=rep_east)
    assert pending.status == "pending"
    with pytest.raises(ValidationError) as caught:
        services.update_contract(pending, by=rep_east, title="偷偷改价", amount="1")
    assert caught.value.message_dict == {
        "status": ["This contract is pending approval and cannot be changed."]
    }
    assert _codes(caught.value) == {"status": ["locked"]}
    stored = Contract.objects.get(pk=pending.pk)
    assert (stored.title, stored.amount) == ("MES 全厂推广合同", Decimal("800000.00"))
    assert services.may_edit(rep_east, stored) is False


def test_an_effective_contract_keeps_its_terms(rep_east, draft):
    effective = services.submit_contract(draft, by=rep_east)
    with pytest.raises(ValidationError) as caught:
        services.update_contract(effective, by=rep_east, amount="1")
    assert _codes(caught.value) == {"amount": ["status"]}
    services.update_contract(effective, by=rep_east, description="客户要求加急")
    assert Contract.objects.get(pk=draft.pk).description == "客户要求加急"
    assert services.editable_fields(effective) == {"description", "custom"}


def test_the_amount_cannot_go_below_the_payment_plan(rep_east, customer):
    contract = services.create_contract(
        customer=customer,
        title="分期合同",
        amount="300000",
        by=rep_east,
        instalments=[{"due_on": date(2026, 3, 31), "amount": "250000"}],
    )
    with pytest.raises(ValidationError) as caught:
        services.update_contract(contract, by=rep_east, amount="200000")
    assert _codes(caught.value) == {"amount": ["below_plan"]}


def test_unknown_or_status_fields_are_refused(rep_east, draft):
    for name in ("status", "received_amount", "effective_at"):
        with pytest.raises(ValidationError) as caught:
            services.update_contract(draft, by=rep_east, **{name: "x"})
        assert list(caught.value.error_dict) == [name]


def test_changing_the_customer_drops_the_former_customers_opportunity(rep_east, customer):
    from tuoke.sales.services import create_opportunity

    opp = create_opportunity(customer=customer, title="MES", by=rep_east)
    contract = services.create_contract(
        customer=customer, title="合同", amount=1, by=rep_east, opportunity=opp
    )
    other = create_customer(by=rep_east, short_name="远航物流")
    services.update_contract(contract, by=rep_east, customer=other)
    stored = Contract.objects.get(pk=contract.pk)
    assert (stored.customer, stored.opportunity) == (other, None)


# --- Submitting and approval --------------------------------------------------------------------


def test_a_contract_no_flow_takes_is_effective_at_once(rep_east, customer, draft):
    received = []

    def listener(sender, contract, by, **kwargs):
        received.append((contract.pk, contract.status, by))

    services.contract_effective.connect(listener)
    try:
        effective = services.submit_contract(draft, by=rep_east)
    finally:
        services.contract_effective.disconnect(listener)
    assert effective.status == "effective"
    assert effective.effective_at is not None
    assert effective.signed_on == timezone.localdate()
    assert received == [(draft.pk, "effective", rep_east)]
    assert not ApprovalRequest.objects.exists()
    customer.refresh_from_db()
    assert customer.lifecycle_status == LifecycleStatus.SIGNED
    change = customer.lifecycle_changes.order_by("-pk").first()
    assert (change.to_status, change.cause) == ("signed", "contract_effective")


def test_a_large_contract_goes_to_the_manager_the_director_and_finance(
    people, rep_east, customer, large_draft
):
    pending = services.submit_contract(large_draft, by=rep_east, comment="请审批")
    assert pending.status == "pending"
    request = approvals.pending_request(pending)
    assert request.flow_name == "大额合同审批"
    assert (request.title, request.amount) == (
        f"{large_draft.number} MES 全厂推广合同",
        Decimal("800000.00"),
    )
    steps = [
        (s.name, [u.username for u in s.approvers.all()])
        for s in request.steps.order_by("position")
    ]
    assert steps == [
        ("部门经理审批", ["manager_east"]),
        ("销售总监审批", ["director"]),
        ("财务审核", ["finance1"]),
    ]
    # Approvers read the contract they decide on.
    assert services.get_contract_for(people["finance1"], pending.pk) == pending
    approvals.approve(request, by=people["manager_east"])
    approvals.approve(request, by=people["director"])
    assert Contract.objects.get(pk=pending.pk).status == "pending"
    approvals.approve(request, by=people["finance1"], comment="同意")
    contract = Contract.objects.get(pk=pending.pk)
    assert contract.status == "effective"
    assert contract.updated_by == people["finance1"]
    customer.refresh_from_db()
    assert customer.lifecycle_status == LifecycleStatus.SIGNED


@pytest.mark.parametrize("decision", ["reject", "return_for_changes"])
def test_a_rejected_or_returned_contract_is_a_draft_again(people, rep_east, large_draft, decision):
    pending = services.submit_contract(large_draft, by=rep_east)
    request = approvals.pending_request(pending)
    getattr(approvals, decision)(request, by=people["manager_east"], comment="价格需重新核算")
    contract = Contract.objects.get(pk=pending.pk)
    assert contract.status == "draft"
    assert trail_of(contract).first().changes[0]["new"] == "Draft"
    # Edited and submitted again, it starts a new request.
    services.update_contract(contract, by=rep_east, amount="700000")
    again = services.submit_contract(contract, by=rep_east)
    assert again.status == "pending"
    assert ApprovalRequest.objects.filter(object_id=contract.pk).count() == 2


def test_the_submitter_withdraws_a_pending_contract(rep_east, large_draft):
    pending = services.submit_contract(large_draft, by=rep_east)
    withdrawn = services.withdraw_contract(pending, by=rep_east, comment="金额有误")
    assert withdrawn.status == "draft"
    request = ApprovalRequest.objects.get(object_id=pending.pk)
    assert request.status == "withdrawn"
    with pytest.raises(ValidationError) as caught:
        services.withdraw_contract(withdrawn, by=rep_east)
    assert _codes(caught.value) == {"status": ["status"]}


def test_only_drafts_are_submitted(rep_east, large_draft, draft):
    pending = services.submit_contract(large_draft, by=rep_east)
    with pytest.raises(ValidationError) as caught:
        services.submit_contract(pending, by=rep_east)
    assert _codes(caught.value) == {"status": ["locked"]}
    effective = services.submit_contract(draft, by=rep_east)
    with pytest.raises(ValidationError) as caught:
        services.submit_contract(effective, by=rep_east)
    assert _codes(caught.value) == {"status": ["status"]}


def test_a_foreign_currency_contract_goes_to_finance(people, rep_east, customer):
    ExchangeRate.objects.create(currency="USD", valid_on=date(2020, 1, 1), rate=Decimal("7.1"))
    contract = services.create_contract(
        customer=customer, title="海外项目", amount="20000", currency="usd", by=rep_east
    )
    assert contract.currency == "USD"
    services.submit_contract(contract, by=rep_east)
    request = approvals.pending_request(contract)
    assert request.flow_name == "外币合同审批"
    assert [u.username for u in request.steps.get().approvers.all()] == ["finance1"]


def test_a_foreign_contract_is_large_at_its_value_in_the_reporting_currency(rep_east, customer):
    ExchangeRate.objects.create(currency="USD", valid_on=date(2020, 1, 1), rate=Decimal("7.1"))
    contract = services.create_contract(
        customer=customer, title="海外大单", amount="80000", currency="USD", by=rep_east
    )
    services.submit_contract(contract, by=rep_east)
    assert approvals.pending_request(contract).flow_name == "大额合同审批"


def test_a_foreign_contract_without_a_rate_cannot_be_submitted(rep_east, customer):
    contract = services.create_contract(
        customer=customer, title="海外项目", amount="20000", currency="EUR", by=rep_east
    )
    with pytest.raises(ValidationError) as caught:
        services.submit_contract(contract, by=rep_east)
    assert _codes(caught.value) == {"currency": ["missing_rate"]}
    assert Contract.objects.get(pk=contract.pk).status == "draft"


def test_credit_on_approval_is_given_when_the_contract_becomes_effective(rep_east, draft):
    ContractSettings.objects.update(credit_rule="approval")
    services.submit_contract(draft, by=rep_east)
    credit = SalesCredit.objects.get(contract=draft)
    assert (credit.owner, credit.cause, credit.amount) == (
        rep_east,
        "approval",
        Decimal("100000.00"),
    )


def test_no_credit_on_approval_under_the_default_rule(rep_east, draft):
    services.submit_contract(draft, by=rep_east)
    assert not SalesCredit.objects.exists()


# --- Completing and terminating -----------------------------------------------------------------


def test_an_effective_contract_is_completed_or_terminated(people, rep_east, customer, draft):
    manager = people["manager_east"]
    effective = services.submit_contract(draft, by=rep_east)
    completed = services.complete_contract(effective, by=rep_east, version=effective.version)
    assert (completed.status, completed.closed_at is not None) == ("completed", True)
    with pytest.raises(ValidationError) as caught:
        services.terminate_contract(completed, by=manager, reason="客户违约")
    assert _codes(caught.value) == {"status": ["status"]}
    other = services.submit_contract(
        services.create_contract(customer=customer, title="二期", amount=1, by=rep_east),
        by=rep_east,
    )
    with pytest.raises(ValidationError) as caught:
        services.terminate_contract(other, by=manager, reason="  ")
    assert _codes(caught.value) == {"reason": ["required"]}
    # Ending a contract early is a manager's decision, not the rep's.
    with pytest.raises(PermissionDenied):
        services.terminate_contract(other, by=rep_east, reason="客户经营困难")
    terminated = services.terminate_contract(other, by=manager, reason="客户经营困难")
    stored = Contract.objects.get(pk=terminated.pk)
    assert (stored.status, stored.termination_reason) == ("terminated", "客户经营困难")


def test_a_draft_is_neither_completed_nor_terminated(people, rep_east, draft, large_draft):
    with pytest.raises(ValidationError) as caught:
        services.complete_contract(draft, by=rep_east)
    assert caught.value.message_dict == {"status": ["Only an effective contract can be completed."]}
    pending = services.submit_contract(large_draft, by=rep_east)
    with pytest.raises(ValidationError) as caught:
        services.terminate_contract(pending, by=people["manager_east"], reason="x")
    assert _codes(caught.value) == {"status": ["locked"]}


# --- Renewals -----------------------------------------------------------------------------------


def _effective(rep, customer, **facts):
    values = {"title": "年度维保合同", "amount": "120000", **facts}
    return services.submit_contract(
        services.create_contract(customer=customer, by=rep, **values), by=rep
    )


def test_a_renewal_is_a_draft_following_on(rep_east, customer):
    old = _effective(
        rep_east, customer, starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31), discount="8"
    )
    renewal = services.renew_contract(old, by=rep_east)
    assert renewal.status == "draft"
    assert renewal.renews == old
    assert renewal.title == "年度维保合同（续约）"
    assert (renewal.customer, renewal.owner, renewal.amount, renewal.currency) == (
        customer,
        rep_east,
        Decimal("120000.00"),
        "CNY",
    )
    assert renewal.discount == Decimal("8.00")
    assert (renewal.starts_on, renewal.ends_on) == (date(2027, 1, 1), date(2027, 12, 31))
    assert renewal.number != old.number
    assert list(old.renewals.all()) == [renewal]


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "following"),
    [
        (date(2026, 1, 1), date(2026, 12, 31), (date(2027, 1, 1), date(2027, 12, 31))),
        (date(2027, 3, 1), date(2028, 2, 29), (date(2028, 3, 1), date(2029, 2, 28))),
        (date(2026, 4, 15), date(2026, 7, 14), (date(2026, 7, 15), date(2026, 10, 14))),
        (date(2026, 1, 1), date(2026, 1, 10), (date(2026, 1, 11), date(2026, 1, 20))),
        (None, date(2026, 6, 30), (date(2026, 7, 1), None)),
        (date(2026, 1, 1), None, (None, None)),
    ],
)
def test_the_following_term_keeps_the_length(starts_on, ends_on, following):
    assert services.following_term(starts_on, ends_on) == following


def test_a_contract_is_renewed_once_at_a_time(rep_east, customer):
    old = _effective(rep_east, customer)
    renewal = services.renew_contract(old, by=rep_east)
    with pytest.raises(ValidationError) as caught:
        services.renew_contract(old, by=rep_east)
    assert _codes(caught.value) == {"renews": ["renewed"]}
    assert renewal.number in caught.value.message_dict["renews"][0]
    # A renewal given up (deleted) lets the contract be renewed again; the title is not
    # suffixed twice when a renewal is renewed.
    services.delete_contract(renewal, by=rep_east)
    again = services.renew_contract(old, by=rep_east)
    services.submit_contract(again, by=rep_east)
    assert services.renew_contract(again, by=rep_east).title == "年度维保合同（续约）"


def test_only_effective_or_completed_contracts_are_renewed(rep_east, draft):
    with pytest.raises(ValidationError) as caught:
        services.renew_contract(draft, by=rep_east)
    assert _codes(caught.value) == {"renews": ["status"]}


def test_a_renewal_given_by_hand_is_checked_too(rep_east, customer):
    old = _effective(rep_east, customer)
    other = create_customer(by=rep_east, short_name="远航物流")
    with pytest.raises(ValidationError) as caught:
        services.create_contract(customer=other, title="续约", amount=1, by=rep_east, renews=old)
    assert _codes(caught.value) == {"renews": ["other_customer"]}


# --- Recycle bin, transfers, access -------------------------------------------------------------


def test_drafts_and_terminated_contracts_go_to_the_recycle_bin_and_come_back(rep_east, draft):
    services.delete_contract(draft, by=rep_east)
    assert not Contract.objects.filter(pk=draft.pk).exists()
    services.restore_contract(draft, by=rep_east)
    assert Contract.objects.filter(pk=draft.pk).exists()
    assert [e.kind for e in trail_of(draft)][:2] == ["restore", "delete"]


def test_pending_and_effective_contracts_are_not_deleted(rep_east, draft, large_draft):
    pending = services.submit_contract(large_draft, by=rep_east)
    with pytest.raises(ValidationError) as caught:
        services.delete_contract(pending, by=rep_east)
    assert _codes(caught.value) == {"status": ["locked"]}
    effective = services.submit_contract(draft, by=rep_east)
    with pytest.raises(ValidationError) as caught:
        services.delete_contract(effective, by=rep_east)
    assert caught.value.message_dict == {
        "status": ["Only drafts and terminated contracts can be deleted."]
    }


def test_a_terminated_contract_with_money_received_stays(people, rep_east, customer):
    contract = _effective(rep_east, customer)
    records.payment(contract, amount="1000", by=people["finance1"])
    services.terminate_contract(contract, by=people["manager_east"], reason="双方协商终止")
    with pytest.raises(ValidationError) as caught:
        services.delete_contract(contract, by=rep_east)
    assert _codes(caught.value) == {"status": ["in_use"]}


def test_a_manager_transfers_contracts_with_a_reason(people, rep_east, draft):
    with pytest.raises(PermissionDenied):
        services.transfer_contracts([draft], to=people["rep_east2"], reason="调岗", by=rep_east)
    manager = people["manager_east"]
    with pytest.raises(ValidationError):
        services.transfer_contracts([draft], to=people["rep_east2"], reason=" ", by=manager)
    moved = services.transfer_contracts([draft], to=people["rep_east2"], reason="调岗", by=manager)
    assert moved == 1
    stored = Contract.objects.get(pk=draft.pk)
    assert stored.owner == people["rep_east2"]
    assert stored.version == draft.version + 1
    entry = trail_of(stored).first()
    assert entry.note == "Transferred: 调岗"
    assert entry.changes[0]["field"] == "owner"


def test_outsiders_do_not_reach_a_contract(people, rep_east, draft):
    assert services.get_contract_for(rep_east, draft.pk) == draft
    assert services.get_contract_for(people["manager_east"], draft.pk, "edit") == draft
    for outsider in ("rep_east2", "rep_south1", "manager_south", "cs1"):
        with pytest.raises(Http404):
            services.get_contract_for(people[outsider], draft.pk)
    with pytest.raises(Http404):
        services.get_contract_for(people["finance1"], draft.pk, "edit")
    assert services.may_edit(rep_east, draft) is True
    assert services.may_edit(people["boss"], draft) is False


# --- Settings -----------------------------------------------------------------------------------


def test_the_administrator_changes_the_settings_audited(people, rep_east, customer):
    admin = people["admin"]
    row = services.update_settings(
        by=admin,
        credit_rule="approval",
        renewal_horizon_days="90",
        number_pattern="C{yyyy}-{seq:05}",
        number_reset="yearly",
    )
    assert (row.credit_rule, row.renewal_horizon_days) == ("approval", 90)
    assert ContractSettings.current().pk == row.pk
    entry = trail_of(row).first()
    assert {c["field"] for c in entry.changes} == {"credit_rule", "renewal_horizon_days"}
    assert entry.actor == admin
    contract = services.create_contract(customer=customer, title="新编号", amount=1, by=rep_east)
    assert contract.number == f"C{timezone.localdate():%Y}-00001"
    assert services.number_sequence().pattern == "C{yyyy}-{seq:05}"


@pytest.mark.parametrize(
    ("facts", "field"),
    [
        ({"credit_rule": "signing"}, "credit_rule"),
        ({"renewal_horizon_days": 0}, "renewal_horizon_days"),
        ({"renewal_horizon_days": "abc"}, "renewal_horizon_days"),
        ({"number_pattern": "HT-{seq}"}, "pattern"),
    ],
)
def test_bad_settings_are_refused(people, facts, field):
    with pytest.raises(ValidationError) as caught:
        services.update_settings(by=people["admin"], **facts)
    assert list(caught.value.error_dict) == [field]


def test_only_administrators_change_the_settings(people):
    for name in ("boss", "finance1", "manager_east"):
        with pytest.raises(PermissionDenied):
            services.update_settings(by=people[name], credit_rule="approval")


def test_the_signed_date_is_kept_when_given(rep_east, customer):
    signed = timezone.localdate() - timedelta(days=3)
    contract = services.create_contract(
        customer=customer, title="合同", amount=1, by=rep_east, signed_on=signed
    )
    assert services.submit_contract(contract, by=rep_east).signed_on == signed


def test_custom_fields_are_checked_and_a_renewal_takes_the_living_ones(people, rep_east, customer):
    from tuoke.core.custom_fields import create_custom_field, delete_custom_field

    admin = people["admin"]
    create_custom_field(
        target="contract", key="erp_number", label="ERP 编号", kind="text", by=admin, required=True
    )
    old_field = create_custom_field(
        target="contract", key="stamp", label="盖章方式", kind="text", by=admin
    )
    with pytest.raises(ValidationError) as caught:
        services.create_contract(customer=customer, title="合同", amount=1, by=rep_east)
    assert list(caught.value.error_dict) == ["custom.erp_number"]
    old = _effective(rep_east, customer, custom={"erp_number": "SAP-001", "stamp": "电子章"})
    assert old.custom == {"erp_number": "SAP-001", "stamp": "电子章"}
    delete_custom_field(old_field, by=admin)
    renewal = services.renew_contract(old, by=rep_east)
    assert renewal.custom == {"erp_number": "SAP-001"}
    services.update_contract(old, by=rep_east, custom={"erp_number": "SAP-002"})
    assert Contract.objects.get(pk=old.pk).custom["erp_number"] == "SAP-002"
