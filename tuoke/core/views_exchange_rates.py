"""Exchange rate pages (to be written)."""

from django.http import Http404


def rate_list(request):
    raise Http404
