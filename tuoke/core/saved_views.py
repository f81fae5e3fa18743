"""Saved views and list preferences: a user keeps a list's filters, sort and columns under a
name (for himself or shared with his team), chooses the columns he likes, and may have a list
open with one of his views by default.

Any list plugs in with its key ("customers", "leads" …) and keeps its whole state in its query
string, so a saved view is that query string; ``tuoke.customers.list_views`` shows how a list
page uses them and ``tuoke.core.views_saved_views`` has the pages that manage them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _

from . import services
from .errors import ErrorCode, field_error
from .models import Action, ListPreference, SavedView
from .scope import get_for, get_for_action, require

if TYPE_CHECKING:
    from tuoke.org.models import User

# Parameters that are not part of what a view shows: where one is, and which view it came from.
NOT_SAVED = frozenset({"page", "view"})
MAX_QUERY_LENGTH = SavedView._meta.get_field("query").max_length or 2000
MAX_COLUMNS = 100


def clean_query(query: str | QueryDict | dict[str, Any]) -> str:
    """A list's query string as a view keeps it: without page and view, without empty values,
    in a stable order (so that "has the user changed the view?" is a string comparison)."""
    if isinstance(query, str):
        query = QueryDict(query.lstrip("?"))
    pairs: list[tuple[str, str]] = []
    items = query.lists() if isinstance(query, QueryDict) else _items(query)
    for key, values in sorted(items, key=lambda item: item[0]):
        if key in NOT_SAVED:
            continue
        pairs += [(key, str(v)) for v in values if str(v).strip() != ""]
    return urlencode(pairs)


def _items(query: dict[str, Any]):
    for key, value in query.items():
        yield key, value if isinstance(value, list | tuple) else [value]


def views_for(user: User, list_key: str) -> QuerySet[SavedView]:
    """The views a user may open on a list: his own and those his team shares, by name."""
    mine_or_team = Q(owner=user)
    if user.unit_id is not None:
        mine_or_team |= Q(shared=True, owner__unit_id=user.unit_id)
    return (
        SavedView.objects.visible_to(user)
        .filter(mine_or_team, list_key=list_key)
        .select_related("owner")
        .order_by("name", "pk")
    )


def views_list(user: User, list_key: str) -> list[SavedView]:
    """``views_for`` as a list, read once per change of the directory (its fingerprint
    counts saved views and people)."""
    from . import directory

    return list(
        directory.cached_for(
            user, f"saved_views:{list_key}", lambda: list(views_for(user, list_key))
        )
    )


def get_view_for(user: User, list_key: str, pk, action: str = Action.VIEW) -> SavedView:
    """One view of the list for an action: 404 when he may not see it, 403 when he sees it
    (shared by a teammate) but may not change it."""
    views = SavedView.objects.filter(list_key=list_key)
    if action == Action.VIEW:
        return get_for(user, views, pk)
    return get_for_action(user, views, pk, action)


def _clean_name(name: str, *, owner: User, list_key: str, exclude: SavedView | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise field_error("name", _("Give the view a name."), ErrorCode.REQUIRED)
    taken = SavedView.objects.filter(owner=owner, list_key=list_key, name=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise field_error("name", _("You already have a view with this name."), ErrorCode.DUPLICATE)
    return name


def _checked_query(query: str | QueryDict | dict[str, Any]) -> str:
    cleaned = clean_query(query)
    if len(cleaned) > MAX_QUERY_LENGTH:
        raise field_error(
            "query", _("These filters are too long to be saved as a view."), ErrorCode.INVALID
        )
    return cleaned


@transaction.atomic
def save_view(
    *,
    by: User,
    list_key: str,
    name: str,
    query: str | QueryDict | dict[str, Any],
    shared: bool = False,
    make_default: bool = False,
) -> SavedView:
    """Keep the list's current filters, sort and columns under a name; audited."""
    require(by, "saved_view", Action.CREATE)
    view = services.create_record(
        SavedView,
        by=by,
        owner=by,
        list_key=list_key,
        name=_clean_name(name, owner=by, list_key=list_key),
        query=_checked_query(query),
        shared=bool(shared),
    )
    if make_default:
        set_default_view(user=by, list_key=list_key, view=view)
    return view


@transaction.atomic
def update_view(
    view: SavedView,
    *,
    by: User,
    expected_version: int | None = None,
    name: str | None = None,
    shared: bool | None = None,
    query: str | QueryDict | dict[str, Any] | None = None,
) -> SavedView:
    """Rename a view, share or unshare it, or replace what it shows; refused (Conflict) when
    it changed since ``expected_version``."""
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = _clean_name(name, owner=view.owner, list_key=view.list_key, exclude=view)
    if shared is not None:
        changes["shared"] = bool(shared)
    if query is not None:
        changes["query"] = _checked_query(query)
    return services.update_record(view, by=by, expected_version=expected_version, **changes)


def delete_view(view: SavedView, *, by: User) -> None:
    """Move a view to the recycle bin. Where it is someone's default, the list opens without
    it until it is restored."""
    services.soft_delete(view, by=by)


# --- Preferences -------------------------------------------------------------------------------


def preference(user: User, list_key: str) -> ListPreference | None:
    return ListPreference.objects.filter(user=user, list_key=list_key).first()


def default_view(user: User, list_key: str) -> SavedView | None:
    """The view the list opens with for this user, if it still exists and he may still see it
    (one query)."""
    chosen = ListPreference.objects.filter(user=user, list_key=list_key).values("default_view")
    return views_for(user, list_key).filter(pk__in=chosen).first()


@transaction.atomic
def set_default_view(*, user: User, list_key: str, view: SavedView | None) -> None:
    """Open the list with ``view`` from now on (None: with no view)."""
    if view is not None and not views_for(user, list_key).filter(pk=view.pk).exists():
        raise field_error("view", _("Choose one of your views."), ErrorCode.INVALID)
    ListPreference.objects.update_or_create(
        user=user, list_key=list_key, defaults={"default_view": view}
    )


def chosen_columns(user: User, list_key: str) -> list[str]:
    """The columns the user chose for the list, in his order ([]: he has not chosen); read
    once per change of the directory, whose fingerprint counts list preferences."""
    from . import directory

    def read() -> list[str]:
        pref = preference(user, list_key)
        return list(pref.columns) if pref is not None else []

    return list(directory.cached_for(user, f"columns:{list_key}", read))


@transaction.atomic
def set_columns(*, user: User, list_key: str, columns: Iterable[str]) -> list[str]:
    """Remember the user's columns for the list, in order (the list checks the keys)."""
    kept: list[str] = []
    for key in columns:
        key = str(key)[:100]
        if key and key not in kept:
            kept.append(key)
    ListPreference.objects.update_or_create(
        user=user, list_key=list_key, defaults={"columns": kept[:MAX_COLUMNS]}
    )
    return kept[:MAX_COLUMNS]
