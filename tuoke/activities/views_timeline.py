"""The customer's timeline on its page: a fragment htmx loads into the page, filtered by kind
and continued by "Load more" (see tuoke.core.timeline)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tuoke.core import timeline
from tuoke.core.scope import get_for
from tuoke.customers.models import Customer


@require_GET
@login_required
def customer_timeline(request, pk: int):
    """The timeline's first page with its kind chips, or (with ``before``) the next events."""
    customer = get_for(request.user, Customer, pk)
    kinds = timeline.parse_kinds(request.GET.getlist("kinds"))
    try:
        before = timeline.cursor_from(request.GET.get("before"))
    except ValidationError as exc:
        return HttpResponseBadRequest(" ".join(exc.messages))
    found = timeline.page(customer, request.user, kinds=kinds, before=before)
    chosen = set(found.chosen)
    chips = [
        {
            "source": source,
            "active": source.key in chosen,
            # A chip adds its kind to the filter or takes it out.
            "kinds": ",".join(sorted(chosen ^ {source.key})),
        }
        for source in found.kinds
    ]
    context = {
        "customer": customer,
        "page": found,
        "chips": chips,
        "kinds_param": ",".join(found.chosen),
    }
    template = "activities/_timeline_events.html" if before else "activities/_timeline_body.html"
    return render(request, template, context)
