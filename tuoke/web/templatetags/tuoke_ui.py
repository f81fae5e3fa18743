"""Small template helpers: Tabler forms, the cached sidebar."""

from django import forms, template
from django.template.loader import render_to_string

from tuoke.core import directory

from ..navigation import entries_for

register = template.Library()


@register.simple_tag(takes_context=True)
def sidebar(context):
    """The sidebar's entries for the user, with the page's entry marked: rendered once per
    user, language, entry and directory state (the entries follow the user's grants)."""
    user = context["user"]
    active = str(context.get("nav_active", ""))
    return directory.cached_for(
        user,
        f"sidebar:{active}",
        lambda: render_to_string(
            "web/_sidebar.html", {"nav_entries": entries_for(user), "nav_active": active}
        ),
    )


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
