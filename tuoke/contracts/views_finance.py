"""Finance's pages (to be written)."""

from django.http import Http404


def payment_list(request):
    raise Http404


def invoice_list(request):
    raise Http404
