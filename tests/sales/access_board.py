"""Out-of-scope records for the access matrix (see access.py): the board of a pipeline in
the recycle bin, and a card of rep_south1's."""

from collections.abc import Callable

from django.utils import timezone

from .records import south_opportunity


def deleted_pipeline(people):
    """A pipeline in the recycle bin: nobody's board (made once per test)."""
    from tuoke.sales.models import Pipeline

    existing = Pipeline.all_objects.filter(name="停用流程").first()
    return existing or Pipeline.objects.create(
        name="停用流程", is_default=False, deleted_at=timezone.now()
    )


def _each(names: tuple[str, ...], params: dict[str, Callable]) -> dict[str, dict]:
    return dict.fromkeys(names, params)


OUT_OF_SCOPE: dict[str, dict[str, Callable]] = {
    **_each(("sales:board", "sales:board_more"), {"pk": lambda p: deleted_pipeline(p).pk}),
    **_each(("sales:board_move", "sales:board_close"), {"pk": lambda p: south_opportunity(p).pk}),
}
