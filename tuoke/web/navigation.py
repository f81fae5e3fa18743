"""The sidebar: apps register their entries here; each entry shows only to users allowed
to use it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import get_script_prefix, reverse
from django.utils.functional import Promise

from tuoke.core import directory
from tuoke.core.scope import can


@dataclass(frozen=True)
class NavEntry:
    key: str
    label: str | Promise
    url_name: str
    icon: str
    section: str | Promise = ""
    order: int = 100
    # (record type, action) the user must hold; None means every logged-in user.
    requires: tuple[str, str] | None = None
    # A further test of the user. It may read only what the directory watches (people,
    # units, roles, grants…): the entries a user may use are cached with it (entries_for).
    check: Callable | None = field(default=None, compare=False)

    def allowed(self, user) -> bool:
        if self.requires is not None and not can(user, *self.requires):
            return False
        return self.check(user) if self.check else True

    @property
    def url(self) -> str:
        return address(self.url_name)


_entries: dict[str, NavEntry] = {}
_urls: dict[tuple[str, str], str] = {}


def address(url_name: str) -> str:
    """The address of a page that takes no arguments, reversed once per process: addresses
    never change while it runs (``{% address %}`` in templates)."""
    key = (url_name, get_script_prefix())
    if key not in _urls:
        _urls[key] = reverse(url_name)
    return _urls[key]


def register(entry: NavEntry) -> None:
    _entries[entry.key] = entry


def entries_for(user) -> list[NavEntry]:
    """The entries the user may use, in order. They follow his grants, so which ones is kept
    with the directory (every page asks, for the active entry)."""
    if not user.is_authenticated:
        return []
    keys = directory.cached_for(
        user,
        "nav-entries",
        lambda: [
            e.key for e in sorted(_entries.values(), key=lambda e: e.order) if e.allowed(user)
        ],
    )
    return [_entries[key] for key in keys if key in _entries]


def active_entry(entries, path: str) -> str:
    """The key of the entry whose address is the longest start of ``path``."""
    active, best = "", 0
    for entry in entries:
        url = entry.url
        if (path == url or (url != "/" and path.startswith(url))) and len(url) > best:
            active, best = entry.key, len(url)
    return active
