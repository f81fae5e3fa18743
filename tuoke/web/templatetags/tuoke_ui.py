"""Small template helpers for Tabler forms."""

from django import forms, template

register = template.Library()


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
