"""Small template helpers: Tabler forms, the cached layout parts, addresses looked up once."""

import re

from django import forms, template
from django.core.signals import setting_changed
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.html import escape
from django.utils.safestring import mark_safe

from tuoke.core import directory

from .. import navigation
from ..navigation import entries_for

register = template.Library()


# Static files' addresses by path: fixed while the process runs (the manifest is read at start).
_assets: dict[str, str] = {}


def _forget_assets(*, setting: str, **kwargs) -> None:
    if setting in ("STORAGES", "STATIC_URL", "STATIC_ROOT"):
        _assets.clear()


setting_changed.connect(_forget_assets, dispatch_uid="tuoke_ui:assets")


@register.simple_tag(name="address")
def address_tag(url_name: str) -> str:
    """``{% url name %}`` for a page that takes no arguments, reversed once per process."""
    return navigation.address(url_name)


@register.simple_tag
def asset(path: str) -> str:
    """``{% static path %}``, looked up once per process: every page links seven files."""
    if path not in _assets:
        _assets[path] = static(path)
    return _assets[path]


# What a cached layout part holds in place of the request's own values.
CSRF_MARK = "tuoke-layout-csrf-token"
PATH_MARK = "tuoke-layout-full-path"
SEARCH_MARK = "tuoke-layout-search-words"
MARKS = re.compile("|".join((CSRF_MARK, PATH_MARK, SEARCH_MARK)))


@register.simple_tag(takes_context=True)
def layout(context, template_name, **extra):
    """A part of the page's frame (side bar, top bar, language switch), rendered once per
    user, language, page entry and directory state: it costs a fifth of a list page
    otherwise. The request's CSRF token, path and search words go in afterwards."""
    user = context["user"]
    active = str(context.get("nav_active", ""))
    key = f"layout:{template_name}:{active}:" + ",".join(
        f"{k}={v}" for k, v in sorted(extra.items())
    )
    html = directory.cached_for(
        user,
        key,
        lambda: render_to_string(
            template_name,
            {
                "user": user,
                "nav_entries": entries_for(user),
                "nav_active": active,
                "csrf_token": CSRF_MARK,
                "full_path": PATH_MARK,
                "search_q": SEARCH_MARK,
                **extra,
            },
        ),
    )
    request = context["request"]
    # The page's own token (the csrf context processor's, read once per page).
    token = context.get("csrf_token") or get_token(request)
    values = {
        CSRF_MARK: escape(str(token)),
        PATH_MARK: escape(request.get_full_path()),
        SEARCH_MARK: escape(request.GET.get("q", "")),
    }
    # In one pass: a value that holds a mark stays as it is.
    html = MARKS.sub(lambda found: values[found.group(0)], html)
    return mark_safe(html)  # noqa: S308 - rendered by the template engine, values escaped


@register.simple_tag
def widget(field, **attrs):
    """Render a bound field's widget with Tabler's classes (and error state)."""
    w = field.field.widget
    if isinstance(w, forms.CheckboxInput):
        css = "form-check-input"
    elif isinstance(w, forms.CheckboxSelectMultiple | forms.RadioSelect):
        css = ""
    elif isinstance(w, forms.Select):
        css = "form-select"
    else:
        css = "form-control"
    if field.errors:
        css += " is-invalid"
    existing = w.attrs.get("class", "")
    attrs["class"] = f"{existing} {css}".strip()
    return field.as_widget(attrs=attrs)
