"""The contract settings page (to be written)."""

from django.http import Http404


def contract_settings(request):
    raise Http404
