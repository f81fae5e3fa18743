"""Approval pages (to be written)."""

from django.http import Http404


def queue(request):
    raise Http404


def flow_list(request):
    raise Http404
