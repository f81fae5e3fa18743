"""What a fresh installation starts with: the contract approval flows (large contracts go to
the rep's manager, the sales director and finance; foreign-currency ones to finance) and the
contract settings. Administrators change them in Settings → Approval flows and Contract
settings."""

from __future__ import annotations

from typing import Any

LARGE_FLOW = "大额合同审批"
FOREIGN_FLOW = "外币合同审批"
LARGE_AMOUNT = "500000"


def default_flows(finance_role: Any) -> list[dict[str, Any]]:
    """The default flows as ``create_flow`` takes them; the finance steps only when there is
    a finance role (a flow needs one step at least, so the foreign-currency flow goes with
    it)."""
    finance = (
        [{"name": "财务审核", "approver_kind": "role", "role": finance_role, "mode": "any"}]
        if finance_role is not None
        else []
    )
    flows = [
        {
            "name": LARGE_FLOW,
            "conditions": [{"fact": "amount", "op": "gte", "value": LARGE_AMOUNT}],
            "steps": [
                {"name": "部门经理审批", "approver_kind": "unit_manager", "mode": "any"},
                {"name": "销售总监审批", "approver_kind": "next_manager", "mode": "any"},
                *finance,
            ],
        }
    ]
    if finance:
        flows.append(
            {
                "name": FOREIGN_FLOW,
                "conditions": [{"fact": "foreign_currency", "op": "is_true", "value": None}],
                "steps": finance,
            }
        )
    return flows


def install_defaults(sender=None, using: str = "default", **kwargs) -> None:
    """post_migrate: create the default flows when no contract flow was ever made (deleted
    ones count: an administrator who removed them does not get them back), and the
    contract settings' row."""
    from tuoke.org.models import ApprovalFlow, ApprovalStep, Role

    from .models import ContractSettings

    if not ContractSettings.objects.using(using).exists():
        ContractSettings.objects.using(using).create()
    if ApprovalFlow.all_objects.using(using).filter(target="contract").exists():
        return
    finance = Role.objects.using(using).filter(default_key="finance").first()
    flows = default_flows(finance)
    if using == "default":
        from tuoke.org import approvals

        for order, flow in enumerate(flows):
            approvals.create_flow(target="contract", by=None, sort_order=order * 10, **flow)
        return
    for order, flow in enumerate(flows):
        made = ApprovalFlow.all_objects.using(using).create(
            name=flow["name"],
            target="contract",
            conditions=flow["conditions"],
            sort_order=order * 10,
        )
        ApprovalStep.objects.using(using).bulk_create(
            ApprovalStep(flow=made, sort_order=number * 10, **step)
            for number, step in enumerate(flow["steps"])
        )
