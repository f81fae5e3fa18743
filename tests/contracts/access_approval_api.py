"""Out-of-scope records for the access matrix (see access.py): access_approval_api.

Requests: rep_south1's contract pending with manager_south and finance1, which rep_east1
neither submitted, manages nor approves. Flows are configuration everyone reads (as pipelines
are), so through the API only a flow in the recycle bin is out of sight."""

from collections.abc import Callable

from . import records


def deleted_flow(people):
    from tuoke.org import approvals
    from tuoke.org.models import ApprovalFlow

    existing = ApprovalFlow.all_objects.filter(name="已删除的审批流程").first()
    if existing is not None:
        return existing
    made = records.flow("已删除的审批流程")
    approvals.delete_flow(made, by=people["admin"])
    return made


_REQUEST_ROUTES = (
    "/api/v1/approval-requests/{request_id}",
    "/api/v1/approval-requests/{request_id}/approve",
    "/api/v1/approval-requests/{request_id}/reject",
    "/api/v1/approval-requests/{request_id}/return",
    "/api/v1/approval-requests/{request_id}/withdraw",
)

OUT_OF_SCOPE: dict[str, dict[str, Callable]] = {
    **{path: {"request_id": lambda p: records.south_request(p).pk} for path in _REQUEST_ROUTES},
    "/api/v1/approval-flows/{flow_id}": {"flow_id": lambda p: deleted_flow(p).pk},
}
