"""Out-of-scope records for the access matrix (see access.py): access_pages."""

from collections.abc import Callable

OUT_OF_SCOPE: dict[str, dict[str, Callable]] = {}
