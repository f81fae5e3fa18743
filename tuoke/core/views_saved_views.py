"""Pages that manage a list's saved views and columns, shared by every list.

A list app adds them to its URLs with ``routes(pages, record_type=…, columns=…)``: the route
names ``saved_view_list``, ``saved_view_create``, ``saved_view_edit``, ``saved_view_delete``,
``saved_view_default`` and ``list_columns`` in its namespace, each for users who may view the
list's records. A view is fetched with ``saved_views.get_view_for``: 404
when the user may not see it, 403 when it is a teammate's shared view he may only open.
Writes go through ``tuoke.core.saved_views``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseNotAllowed, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import lists, saved_views
from .errors import Conflict
from .models import Action, SavedView
from .scope import require
from .views import add_service_error


@dataclass(frozen=True)
class ListPages:
    """Where a list lives: its key for saved views and preferences, its page's URL name, the
    namespace of its saved-view routes and its title."""

    list_key: str
    url_name: str
    namespace: str
    title: str | Promise

    def url(self, name: str, *args) -> str:
        return reverse(f"{self.namespace}:{name}", args=args)

    def list_url(self, query: str = "") -> str:
        """The list page showing ``query`` (a query string; never a whole URL, so the
        redirect cannot leave the site)."""
        query = query.lstrip("?")
        return reverse(self.url_name) + (f"?{query}" if query else "")

    def view_url(self, view: SavedView) -> str:
        """The list showing a saved view (its filters, sort and columns, and its name)."""
        query = f"{view.query}&view={view.pk}" if view.query else f"view={view.pk}"
        return self.list_url(query)


class SaveViewForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=60)
    shared = forms.BooleanField(
        label=gettext_lazy("Share with my team"),
        required=False,
        help_text=gettext_lazy("Everyone in your unit can open it; only you can change it."),
    )
    make_default = forms.BooleanField(
        label=gettext_lazy("Open the list with this view"), required=False
    )
    query = forms.CharField(widget=forms.HiddenInput, required=False, max_length=4000)


class EditViewForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=60)
    shared = SaveViewForm.base_fields["shared"]
    make_default = SaveViewForm.base_fields["make_default"]


def _form_page(request, pages: ListPages, form, *, view: SavedView | None, status: int = 200):
    return render(
        request,
        "core/saved_views/form.html",
        {"form": form, "view": view, "pages": pages, "back_url": pages.url("saved_view_list")},
        status=status,
    )


def saved_view_list(request, pages: ListPages):
    """The views the user may open on the list, his default marked; his own can be edited."""
    user = request.user
    views = saved_views.views_list(user, pages.list_key)
    default = saved_views.default_view(user, pages.list_key)
    rows = [
        {
            "view": view,
            "url": pages.view_url(view),
            "mine": view.owner_id == user.pk,
            "is_default": default is not None and default.pk == view.pk,
            "edit_url": pages.url("saved_view_edit", view.pk),
            "delete_url": pages.url("saved_view_delete", view.pk),
        }
        for view in views
    ]
    return render(
        request,
        "core/saved_views/list.html",
        {
            "rows": rows,
            "pages": pages,
            "list_url": pages.list_url(),
            "default_url": pages.url("saved_view_default"),
        },
    )


def saved_view_create(request, pages: ListPages):
    """Keep the list's current state under a name (posted from the list's "Save view")."""
    if request.method != "POST":
        form = SaveViewForm(initial={"query": request.GET.get("query", "")})
        return _form_page(request, pages, form, view=None)
    form = SaveViewForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            view = saved_views.save_view(
                by=request.user,
                list_key=pages.list_key,
                name=data["name"],
                query=data["query"],
                shared=data["shared"],
                make_default=data["make_default"],
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("View “%(name)s” was saved.") % {"name": view.name})
            return redirect(pages.view_url(view))
    return _form_page(request, pages, form, view=None, status=400)


def saved_view_edit(request, pages: ListPages, pk: int):
    """Rename a view of one's own, share or unshare it, make it the default."""
    view = saved_views.get_view_for(request.user, pages.list_key, pk, Action.EDIT)
    default = saved_views.default_view(request.user, pages.list_key)
    initial = {
        "version": view.version,
        "name": view.name,
        "shared": view.shared,
        "make_default": default is not None and default.pk == view.pk,
    }
    form = EditViewForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved_views.update_view(
                view,
                by=request.user,
                expected_version=data["version"],
                name=data["name"],
                shared=data["shared"],
            )
            if data["make_default"]:
                saved_views.set_default_view(user=request.user, list_key=pages.list_key, view=view)
            elif initial["make_default"]:
                saved_views.set_default_view(user=request.user, list_key=pages.list_key, view=None)
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("View “%(name)s” was saved.") % {"name": view.name})
            return redirect(pages.url("saved_view_list"))
    status = 400 if request.method == "POST" else 200
    return _form_page(request, pages, form, view=view, status=status)


def saved_view_delete(request, pages: ListPages, pk: int):
    """Delete a view of one's own after confirmation (it goes to the recycle bin)."""
    view = saved_views.get_view_for(request.user, pages.list_key, pk, Action.DELETE)
    if request.method == "POST":
        saved_views.delete_view(view, by=request.user)
        messages.success(
            request, _("View “%(name)s” was moved to the recycle bin.") % {"name": view.name}
        )
        return redirect(pages.url("saved_view_list"))
    return render(
        request,
        "core/saved_views/delete.html",
        {"view": view, "pages": pages, "back_url": pages.url("saved_view_list")},
    )


def saved_view_default(request, pages: ListPages):
    """Choose the view the list opens with (``view`` in the body; empty: none)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    chosen = request.POST.get("view", "")
    view = saved_views.get_view_for(request.user, pages.list_key, chosen) if chosen else None
    saved_views.set_default_view(user=request.user, list_key=pages.list_key, view=view)
    if view is None:
        messages.success(request, _("The list opens without a saved view now."))
    else:
        messages.success(request, _("The list opens with “%(name)s” now.") % {"name": view.name})
    return redirect(pages.url("saved_view_list"))


def list_columns(request, pages: ListPages, columns: list[lists.Column]):
    """Remember the columns the user chose (``columns``, in order) and show the list with
    them (``query``: the list's query string to return to)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    known = {c.key for c in columns if not c.fixed}
    chosen = [key for key in request.POST.getlist("columns") if key in known]
    query = QueryDict(request.POST.get("query", "")[:4000], mutable=True)
    if chosen:
        kept = saved_views.set_columns(user=request.user, list_key=pages.list_key, columns=chosen)
        query[lists.COLUMNS_PARAM] = ",".join(kept)
        messages.success(request, _("Your columns were saved."))
    else:
        messages.error(request, _("Choose at least one column."))
    query.pop("page", None)
    return redirect(pages.list_url(urlencode(sorted(query.lists()), doseq=True)))


def routes(
    pages: ListPages,
    *,
    record_type: str,
    columns: Callable[[], list[lists.Column]],
    prefix: str = "",
) -> list[URLPattern]:
    """The saved-view and column routes of one list (under ``prefix``), each for logged-in
    users who may view ``record_type``; ``columns()`` gives the list's columns as they are
    now (custom fields come and go)."""

    def page(view, *extra: Callable[[], object]):
        @login_required
        @wraps(view)
        def guarded(request, *args, **kwargs):
            require(request.user, record_type, Action.VIEW)
            return view(request, pages, *args, *(get() for get in extra), **kwargs)

        return guarded

    return [
        path(f"{prefix}columns/", page(list_columns, columns), name="list_columns"),
        path(f"{prefix}views/", page(saved_view_list), name="saved_view_list"),
        path(f"{prefix}views/new/", page(saved_view_create), name="saved_view_create"),
        path(f"{prefix}views/default/", page(saved_view_default), name="saved_view_default"),
        path(f"{prefix}views/<int:pk>/edit/", page(saved_view_edit), name="saved_view_edit"),
        path(f"{prefix}views/<int:pk>/delete/", page(saved_view_delete), name="saved_view_delete"),
    ]
