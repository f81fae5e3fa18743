"""Placeholder for pages being built (removed when the last one lands)."""

from django.http import Http404


def not_yet(request, *args, **kwargs):
    raise Http404
