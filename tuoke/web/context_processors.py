from django.conf import settings
from django.utils.functional import SimpleLazyObject, lazy

from .navigation import active_entry, entries_for


def shell(request):
    """What the layout needs on every page: the navigation and the active entry, worked
    out only when a page asks (the side bar is cached, ``tuoke_ui.layout``)."""
    user = getattr(request, "user", None)
    nav = SimpleLazyObject(lambda: entries_for(user) if user is not None else [])
    active = lazy(lambda: active_entry(nav, request.path), str)()
    return {"nav_entries": nav, "nav_active": active, "debug_mode": settings.DEBUG}
