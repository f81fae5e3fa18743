"""Out-of-scope records for the access matrix (see access.py): access_approval_pages.

rep_east1 may not see rep_south1's request (south_request) nor administer approval flows,
so every id route of the approval pages answers him 404 (or 405 for a GET on a POST-only
route)."""

from collections.abc import Callable

from . import records


def _south_request(people):
    return records.south_request(people).pk


def _flow(people):
    return records.flow().pk


def _deleted_flow(people):
    """A flow in the recycle bin, for its restore route."""
    from django.utils import timezone

    from tuoke.org.models import ApprovalFlow

    existing = ApprovalFlow.all_objects.deleted().filter(name="已删除的审批流").first()
    if existing is not None:
        return existing.pk
    made = records.flow("已删除的审批流", sort_order=90)
    ApprovalFlow.all_objects.filter(pk=made.pk).update(deleted_at=timezone.now())
    return made.pk


OUT_OF_SCOPE: dict[str, dict[str, Callable]] = {
    **{
        f"approvals:{name}": {"pk": _south_request}
        for name in (
            "request_detail",
            "request_approve",
            "request_reject",
            "request_return",
            "request_withdraw",
        )
    },
    **{f"approvals:{name}": {"pk": _flow} for name in ("flow_edit", "flow_delete", "flow_move")},
    "approvals:flow_restore": {"pk": _deleted_flow},
}
