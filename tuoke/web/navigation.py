"""The sidebar: apps register their entries here; each entry shows only to users allowed
to use it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.functional import Promise

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
    check: Callable | None = field(default=None, compare=False)

    def allowed(self, user) -> bool:
        if self.requires is not None and not can(user, *self.requires):
            return False
        return self.check(user) if self.check else True

    @property
    def url(self) -> str:
        return reverse(self.url_name)


_entries: dict[str, NavEntry] = {}


def register(entry: NavEntry) -> None:
    _entries[entry.key] = entry


def entries_for(user) -> list[NavEntry]:
    if not user.is_authenticated:
        return []
    return [e for e in sorted(_entries.values(), key=lambda e: e.order) if e.allowed(user)]
