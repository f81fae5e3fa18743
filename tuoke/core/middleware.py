"""Middleware of the core: pages that change nothing read the directory's fingerprint once."""

from __future__ import annotations

from .directory import steady

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SteadyDirectoryMiddleware:
    """A GET reads a dozen cached pieces (grants, custom fields, saved views, filter options);
    they share one reading of the directory's fingerprint (``tuoke.core.directory.steady``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in SAFE_METHODS:
            return self.get_response(request)
        with steady():
            return self.get_response(request)
