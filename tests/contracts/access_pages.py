"""Out-of-scope records for the access matrix (see access.py): the contract pages."""

from collections.abc import Callable

from . import records


def _south_view(people):
    """A saved view of the contract list rep_south1 shares with his team (not rep_east1's)."""
    from tuoke.core.models import SavedView
    from tuoke.core.saved_views import save_view

    existing = SavedView.objects.filter(name="华南合同", list_key="contracts").first()
    return existing or save_view(
        by=people["rep_south1"], list_key="contracts", name="华南合同", query="", shared=True
    )


def _south_contract(people):
    return records.south_contract(people).pk


CONTRACT_PAGES = (
    "contracts:contract_detail",
    "contracts:contract_edit",
    "contracts:contract_delete",
    "contracts:contract_submit",
    "contracts:contract_withdraw",
    "contracts:contract_complete",
    "contracts:contract_terminate",
    "contracts:contract_renew",
    "contracts:contract_plan",
    "contracts:payment_create",
    "contracts:invoice_create",
    "contracts:attachment_upload",
)
ATTACHMENT_PAGES = ("contracts:attachment_download", "contracts:attachment_delete")
SAVED_VIEWS = ("contracts:saved_view_edit", "contracts:saved_view_delete")

OUT_OF_SCOPE: dict[str, dict[str, Callable]] = {
    **{name: {"pk": _south_contract} for name in CONTRACT_PAGES},
    **{name: {"pk": lambda p: records.south_attachment(p).pk} for name in ATTACHMENT_PAGES},
    **{name: {"pk": lambda p: _south_view(p).pk} for name in SAVED_VIEWS},
}
