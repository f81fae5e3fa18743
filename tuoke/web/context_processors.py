from django.conf import settings

from .navigation import entries_for


def shell(request):
    """What the layout needs on every page: the navigation and the active entry."""
    user = getattr(request, "user", None)
    nav = entries_for(user) if user is not None else []
    path = request.path
    active = ""
    best = 0
    for entry in nav:
        url = entry.url
        if (path == url or (url != "/" and path.startswith(url))) and len(url) > best:
            active, best = entry.key, len(url)
    return {"nav_entries": nav, "nav_active": active, "debug_mode": settings.DEBUG}
