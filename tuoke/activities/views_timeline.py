"""The customer's timeline on its page: a fragment htmx loads into the page, filtered by kind
and continued by "Load more" (see tuoke.core.timeline)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET

from tuoke.core import timeline
from tuoke.core.models import Action
from tuoke.core.scope import can, get_for
from tuoke.customers.models import Customer

# What may be done from the timeline: (key, record type, URL name, icon, label). The pages come
# with the activities' own views; a button shows once its page exists.
ACTIONS = (
    (
        "follow_up",
        "follow_up",
        "activities:follow_up_create",
        "message-plus",
        _lazy("Log follow-up"),
    ),
    ("visit", "visit", "activities:visit_create", "map-pin", _lazy("Plan a visit")),
)


def _actions(user, customer: Customer) -> list[dict]:
    found = []
    for key, record_type, url_name, icon, label in ACTIONS:
        url = timeline.url_or_blank(url_name)
        if url and can(user, record_type, Action.CREATE):
            found.append(
                {"key": key, "url": f"{url}?customer={customer.pk}", "icon": icon, "label": label}
            )
    return found


@require_GET
@login_required
def customer_timeline(request, pk: int):
    """The timeline's first page with its kind chips, or (with ``before``) the next events."""
    customer = get_for(request.user, Customer, pk)
    kinds = timeline.parse_kinds(request.GET.getlist("kinds"))
    before = None
    if request.GET.get("before"):
        try:
            before = timeline.Cursor.decode(request.GET["before"])
        except ValueError:
            return HttpResponseBadRequest(_("This is not a place in the timeline."))
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
        "actions": [] if before else _actions(request.user, customer),
    }
    template = "activities/_timeline_events.html" if before else "activities/_timeline_body.html"
    return render(request, template, context)
