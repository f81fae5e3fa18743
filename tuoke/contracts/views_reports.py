"""Receivables and renewals pages (to be written)."""

from django.http import Http404


def receivables(request):
    raise Http404


def renewals(request):
    raise Http404
