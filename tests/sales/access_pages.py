"""Out-of-scope records for the access matrix (see access.py): the opportunity pages."""

from collections.abc import Callable

from . import records


def _south_view(people):
    """A saved view of the opportunity list rep_south1 shares with his team (not rep_east1's)."""
    from tuoke.core.models import SavedView
    from tuoke.core.saved_views import save_view

    existing = SavedView.objects.filter(name="华南商机", list_key="opportunities").first()
    return existing or save_view(
        by=people["rep_south1"], list_key="opportunities", name="华南商机", query="", shared=True
    )


def _south_opportunity(people):
    return records.south_opportunity(people).pk


PAGES = (
    "sales:opportunity_detail",
    "sales:opportunity_edit",
    "sales:opportunity_delete",
    "sales:opportunity_move",
    "sales:opportunity_win",
    "sales:opportunity_lose",
    "sales:opportunity_reopen",
)
SAVED_VIEWS = ("sales:saved_view_edit", "sales:saved_view_delete")

OUT_OF_SCOPE: dict[str, dict[str, Callable]] = {
    **{name: {"pk": _south_opportunity} for name in PAGES},
    **{name: {"pk": lambda p: _south_view(p).pk} for name in SAVED_VIEWS},
}
