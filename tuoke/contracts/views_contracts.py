"""The contract pages (to be written)."""

from django.http import Http404


def contract_list(request):
    raise Http404
