"""The customer list: filters, saved views, sorting, column chooser and bulk actions.

The list keeps its whole state in the query string (filters, ``sort``, ``cols``, and ``view``
naming the saved view it came from), so a link shows the same list to a colleague and a saved
view is that query string. Every customer comes from ``Customer.objects.visible_to(user)``;
writes go through ``bulk``, ``services.transfer_customers`` and ``tuoke.core.saved_views``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from html import escape
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tuoke.core import custom_fields, directory, lists, saved_views
from tuoke.core import views_saved_views as view_pages
from tuoke.core.humanize import ago
from tuoke.core.models import Action, CustomField, owners_as_ids
from tuoke.core.scope import can, require
from tuoke.core.views import add_service_error, paginate
from tuoke.org.models import OrgUnit, User

from . import bulk, queries, services
from .models import Customer, LifecycleStatus, Nature, Size, Tag

LIST_KEY = "customers"
PAGES = view_pages.ListPages(
    list_key=LIST_KEY,
    url_name="customers:customer_list",
    namespace="customers",
    title=gettext_lazy("Customers"),
)
TARGET = Customer.custom_fields_target

# Sort key → field. Each is served by an index (owner, field, id) for a rep's scope and
# (field, id) for wider ones; see the customers migrations.
SORTS = {
    "name": "pinyin_full",  # pinyin order: 阿里 before 百度 before 腾讯
    "updated": "updated_at",
    "created": "created_at",
    "follow_up": "last_follow_up_at",
}
NULLABLE_SORTS = {"follow_up"}
DEFAULT_SORT = "-updated"

BUILT_IN_COLUMNS = [
    lists.Column("name", gettext_lazy("Customer"), sort="name", fixed=True),
    lists.Column("status", gettext_lazy("Lifecycle status")),
    lists.Column("owner", gettext_lazy("Owner")),
    lists.Column("unit", gettext_lazy("Unit"), default=False),
    lists.Column("tags", gettext_lazy("Tags")),
    lists.Column("region", gettext_lazy("Region")),
    lists.Column("industry", gettext_lazy("Industry"), default=False),
    lists.Column("nature", gettext_lazy("Nature"), default=False),
    lists.Column("size", gettext_lazy("Size"), default=False),
    lists.Column("tier", gettext_lazy("Tier"), default=False),
    lists.Column("credit_code", gettext_lazy("Credit code"), default=False),
    lists.Column("follow_up", gettext_lazy("Last follow-up"), sort="follow_up"),
    lists.Column("created", gettext_lazy("Created"), sort="created", default=False),
    lists.Column("updated", gettext_lazy("Updated"), sort="updated"),
]
CUSTOM_COLUMN_PREFIX = "custom."


def columns_for(fields: list[CustomField]) -> list[lists.Column]:
    """Every column the list can show: the built-in ones, then one per custom field (shown
    by default when the administrator ticked "show in lists")."""
    return BUILT_IN_COLUMNS + [
        lists.Column(CUSTOM_COLUMN_PREFIX + f.key, f.label, default=f.show_in_list) for f in fields
    ]


# --- Filters ------------------------------------------------------------------------------------


DATE_INPUT = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: OrgUnit) -> str:
        return "— " * obj.depth + obj.name


class CustomerFilterForm(forms.Form):
    """The list's filters as query parameters; a bad value is reported on its field and that
    filter is left out, the others still apply."""

    q = forms.CharField(label=gettext_lazy("Search"), max_length=100, required=False)
    status = forms.ChoiceField(
        label=gettext_lazy("Lifecycle status"),
        choices=[("", gettext_lazy("All statuses")), *LifecycleStatus.choices],
        required=False,
    )
    owner = forms.ModelChoiceField(
        label=gettext_lazy("Owner"),
        queryset=User.objects.none(),
        required=False,
        empty_label=gettext_lazy("All owners"),
    )
    unit = UnitChoiceField(
        label=gettext_lazy("Owner's unit"),
        queryset=OrgUnit.objects.none(),
        required=False,
        empty_label=gettext_lazy("All units"),
    )
    tag = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Tags"),
        queryset=Tag.objects.none(),
        required=False,
        help_text=gettext_lazy("Customers with any of them."),
    )
    province = forms.CharField(label=gettext_lazy("Province"), max_length=30, required=False)
    city = forms.CharField(label=gettext_lazy("City"), max_length=30, required=False)
    industry = forms.CharField(label=gettext_lazy("Industry"), max_length=50, required=False)
    nature = forms.ChoiceField(
        label=gettext_lazy("Nature"),
        choices=[("", gettext_lazy("Any nature")), *Nature.choices],
        required=False,
    )
    size = forms.ChoiceField(
        label=gettext_lazy("Size"),
        choices=[("", gettext_lazy("Any size")), *Size.choices],
        required=False,
    )
    created_from = forms.DateField(
        label=gettext_lazy("Created from"), required=False, widget=DATE_INPUT
    )
    created_to = forms.DateField(
        label=gettext_lazy("Created until"), required=False, widget=DATE_INPUT
    )
    follow_up_from = forms.DateField(
        label=gettext_lazy("Last follow-up from"), required=False, widget=DATE_INPUT
    )
    follow_up_to = forms.DateField(
        label=gettext_lazy("Last follow-up until"), required=False, widget=DATE_INPUT
    )

    # Filters behind "More filters" (the first ones stay in sight, also on a phone).
    MORE = (
        "unit",
        "tag",
        "province",
        "city",
        "industry",
        "nature",
        "size",
        "created_from",
        "created_to",
        "follow_up_from",
        "follow_up_to",
    )
    DATE_RANGES = (("created_from", "created_to"), ("follow_up_from", "follow_up_to"))

    def __init__(self, data, *, user: User):
        super().__init__(data)
        # Only a filter in use checks its value against the user's scope; the page writes
        # the choices from the directory (_filter_options), not from these querysets.
        if self.data.get("owner"):
            self.fields["owner"].queryset = User.objects.visible_to(user)
        if self.data.get("unit"):
            self.fields["unit"].queryset = OrgUnit.objects.visible_to(user)
        if self.data.get("tag"):
            self.fields["tag"].queryset = Tag.objects.visible_to(user)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for start, end in self.DATE_RANGES:
            if data.get(start) and data.get(end) and data[start] > data[end]:
                self.add_error(end, _("The end comes before the start."))
                data.pop(end, None)
        return data

    @property
    def more_in_use(self) -> bool:
        return any(self.data.get(name) for name in self.MORE)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _filtered(customers: QuerySet[Customer], data: dict[str, Any]) -> QuerySet[Customer]:
    """``customers`` narrowed by the valid filters in ``data`` (a form's cleaned_data)."""
    if data.get("q"):
        customers = queries.search(customers, data["q"])
    if data.get("status"):
        customers = customers.filter(lifecycle_status=data["status"])
    if data.get("owner"):
        customers = customers.filter(owner=data["owner"])
    if data.get("unit"):
        customers = customers.filter(owner__unit__path__startswith=data["unit"].path)
    if data.get("tag"):
        links = Customer.tags.through.objects.filter(
            customer_id=OuterRef("pk"), tag__in=list(data["tag"])
        )
        customers = customers.filter(Exists(links))
    for name in ("province", "city"):
        if data.get(name, "").strip():
            customers = customers.filter(**{name: data[name].strip()})
    if data.get("industry", "").strip():
        customers = customers.filter(industry__icontains=data["industry"].strip())
    for name in ("nature", "size"):
        if data.get(name):
            customers = customers.filter(**{name: data[name]})
    for field, start, end in (
        ("created_at", "created_from", "created_to"),
        ("last_follow_up_at", "follow_up_from", "follow_up_to"),
    ):
        if data.get(start):
            customers = customers.filter(**{f"{field}__gte": _day_start(data[start])})
        if data.get(end):
            customers = customers.filter(
                **{f"{field}__lt": _day_start(data[end] + timedelta(days=1))}
            )
    return customers


def _custom_filters(fields: list[CustomField], params: QueryDict) -> list[dict[str, Any]]:
    """The custom-field filter inputs with their current values, for the template."""
    found = []
    for f in fields:
        name = f"{custom_fields.FILTER_PREFIX}{f.key}"
        found.append(
            {
                "field": f,
                "name": name,
                "value": params.get(name, ""),
                "min": params.get(f"{name}_min", ""),
                "max": params.get(f"{name}_max", ""),
                "ranged": f.kind
                in (CustomField.Kind.NUMBER, CustomField.Kind.MONEY, CustomField.Kind.DATE),
            }
        )
    return found


def _options(choices, chosen: list[str]) -> SafeString:
    """The <option>s of a select, written in Python: Django's widget templates render one
    template per option, too slow for 200 owners on a page with a 50 ms budget."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (value, mark_safe(" selected") if str(value) in chosen else "", label)
            for value, label in choices
        ),
    )


def _directory_options(user: User) -> dict[str, SafeString]:
    """The <option>s built from people, units and tags, without a selection: the same for
    every page view until the directory changes (``tuoke.core.directory``)."""
    people = list(
        User.objects.visible_to(user).order_by("-is_active", "username").select_related("unit")
    )
    units = OrgUnit.objects.visible_to(user).order_by("path")
    tags = list(Tag.objects.visible_to(user).order_by("name"))
    return {
        "owner": _options(((u.pk, u) for u in people), []),
        "unit": _options(((u.pk, "— " * u.depth + u.name) for u in units), []),
        "tag": _options(((t.pk, t.name) for t in tags), []),
        "transfer_to": _options(
            ((u.pk, f"{u} · {u.unit}" if u.unit_id else str(u)) for u in people if u.is_active),
            [],
        ),
    }


def _with_selected(options: SafeString, chosen: list[str]) -> SafeString:
    """``options`` (ids as values) with the ``chosen`` ones selected."""
    for value in chosen:
        if value.isdigit():
            plain = f'<option value="{value}">'
            options = options.replace(plain, f'<option value="{value}" selected>', 1)
    return mark_safe(options)  # noqa: S308 -- built by _options, ids are digits


def _filter_options(user: User, params: QueryDict) -> dict[str, Any]:
    """The choices of the filter form's and bulk form's selects."""
    cached = directory.cached_for(user, "customer-list-options", lambda: _directory_options(user))
    return {
        "status": _options(LifecycleStatus.choices, params.getlist("status")),
        "owner": _with_selected(cached["owner"], params.getlist("owner")),
        "unit": _with_selected(cached["unit"], params.getlist("unit")),
        "tag": _with_selected(cached["tag"], params.getlist("tag")),
        "bulk_tag": cached["tag"],
        "transfer_to": cached["transfer_to"],
        "nature": _options(Nature.choices, params.getlist("nature")),
        "size": _options(Size.choices, params.getlist("size")),
    }


# States of the query string that are not filters.
NOT_FILTERS = frozenset({"page", "sort", lists.COLUMNS_PARAM, "view"})


def _is_filtered(params: QueryDict) -> bool:
    return any(v.strip() for k, vs in params.lists() if k not in NOT_FILTERS for v in vs)


# --- Cells --------------------------------------------------------------------------------------


class RowRenderer:
    """The HTML of each row, written in Python with the standard library's ``escape``: a page
    of 25 rows × a dozen columns through template tags, or even ``format_html``, would spend
    most of the page's time budget on lookups and lazy strings (bench/README.md)."""

    def __init__(
        self,
        fields: list[CustomField],
        columns: list[lists.Column],
        *,
        selectable: bool,
        names: dict[str, dict[int, Any]],
        tags: dict[int, list[int]],
    ):
        self.names = names
        self.tags = tags
        self.custom = {CUSTOM_COLUMN_PREFIX + f.key: f for f in fields}
        self.columns = [(c.key, escape(str(c.label))) for c in columns]
        self.selectable = selectable
        self.select_label = escape(_("Select"))
        self.never = f'<span class="text-secondary">{escape(_("never"))}</span>'
        self._badges: dict[str, str] = {}
        self._zone = timezone.get_current_timezone()
        self._labels = {"nature": dict(Nature.choices), "size": dict(Size.choices)}
        # The detail URL around a placeholder id, so that each row does not resolve it.
        marker = 987654321
        self._detail = reverse("customers:customer_detail", args=[marker]).split(str(marker))

    def row(self, c: Customer) -> str:
        name = escape(c.display_name)
        cells = "".join(
            f'<td data-label="{label}" data-column="{key}">{self.cell(key, c)}</td>'
            for key, label in self.columns
        )
        select = ""
        if self.selectable:
            aria = escape(_("Select %(name)s") % {"name": c.display_name})
            select = (
                f'<td class="w-1" data-label="{self.select_label}"><input type="checkbox" '
                f'name="ids" value="{c.pk}" form="bulk-form" class="form-check-input m-0" '
                f'x-model="selected" aria-label="{aria}" data-testid="select-row"></td>'
            )
        return (
            f'<tr data-testid="customer-row" data-pk="{c.pk}" data-name="{name}">'
            f"{select}{cells}</tr>"
        )

    def badge(self, customer: Customer) -> str:
        """The lifecycle badge, rendered once per status and page."""
        status = customer.lifecycle_status
        if status not in self._badges:
            self._badges[status] = render_to_string(
                "customers/_lifecycle_badge.html",
                {"status": status, "label": customer.get_lifecycle_status_display()},
            )
        return self._badges[status]

    def cell(self, key: str, c: Customer) -> str:
        if key == "name":
            legal = (
                f'<div class="small text-secondary">{escape(c.legal_name)}</div>'
                if c.short_name and c.legal_name
                else ""
            )
            url = f"{self._detail[0]}{c.pk}{self._detail[1]}"
            return (
                f'<div><a href="{url}" class="fw-bold" data-testid="customer-link">'
                f"{escape(c.display_name)}</a>{legal}</div>"
            )
        if key == "status":
            return self.badge(c)
        if key == "owner":
            return _text(self.names["people"].get(c.owner_id, ("", ""))[0])
        if key == "unit":
            return _text(self.names["people"].get(c.owner_id, ("", ""))[1])
        if key == "tags":
            known = self.names["tags"]
            badges = "".join(
                f'<span class="badge bg-{escape(known[t][1] or "blue")}-lt me-1">'
                f"{escape(known[t][0])}</span>"
                for t in sorted(
                    (t for t in self.tags.get(c.pk, ()) if t in known), key=lambda t: known[t][0]
                )
            )
            return f"<div>{badges}</div>" if badges else EMPTY_CELL
        if key == "region":
            return _text(" · ".join(part for part in (c.province, c.city) if part))
        if key == "industry":
            return _text(c.industry)
        if key in ("nature", "size"):
            value = getattr(c, key)
            return _text(self._labels[key].get(value, value))
        if key == "tier":
            return _text(c.tier)
        if key == "credit_code":
            return f'<span class="font-monospace">{escape(c.credit_code or "—")}</span>'
        if key == "follow_up":
            return self._when(c.last_follow_up_at)
        if key == "created":
            return c.created_at.astimezone(self._zone).date().isoformat()
        if key == "updated":
            return c.updated_at.astimezone(self._zone).date().isoformat()
        field = self.custom.get(key)
        if field is not None:
            return _text(custom_fields.display_value(field, (c.custom or {}).get(field.key)))
        return EMPTY_CELL

    def _when(self, moment: datetime | None) -> str:
        if moment is None:
            return self.never
        exact = moment.astimezone(self._zone).strftime("%Y-%m-%d %H:%M")
        return f'<span title="{exact}">{escape(ago(moment))}</span>'


EMPTY_CELL = '<span class="text-secondary">—</span>'


def _text(value) -> str:
    text = str(value) if value is not None else ""
    return escape(text) if text else EMPTY_CELL


# --- The list -----------------------------------------------------------------------------------


def _names() -> dict[str, dict[int, Any]]:
    """People's names and units, and tags' names and colours, by id: the rows' owner, unit
    and tags read from here rather than joined or prefetched on every page."""

    def build() -> dict[str, dict[int, Any]]:
        people = User.objects.select_related("unit")
        return {
            "people": {u.pk: (str(u), u.unit.name if u.unit_id else "") for u in people},
            "tags": {t.pk: (t.name, t.color) for t in Tag.objects.all()},
        }

    return directory.cached("customer-list-names", build)


def _with_tags(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """Each row with the ids of its tags (``tag_ids``), read in the page's own query."""
    return customers.annotate(
        tag_ids=lists.linked_ids(Customer.tags.through, "customer_id", "tag_id")
    )


def _tags_of(customers: Iterable[Customer]) -> dict[int, list[int]]:
    """The ids of each customer's tags, from ``_with_tags``."""
    return {c.pk: lists.split_ids(c.tag_ids) for c in customers}


def _wants_results_only(request) -> bool:
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Target") == "customer-results"
        and not headers.get("HX-History-Restore-Request")
    )


@login_required
def customer_list(request):
    """Customers in the user's scope, filtered, sorted and paged, with his columns."""
    user = request.user
    require(user, "customer", Action.VIEW)
    params = request.GET
    if not params:
        default = saved_views.default_view(user, LIST_KEY)
        if default is not None:
            return redirect(PAGES.view_url(default))

    fields = custom_fields.fields_for(TARGET)
    views = saved_views.views_list(user, LIST_KEY)
    for view in views:
        view.open_url = PAGES.view_url(view)
    current_view = next((v for v in views if str(v.pk) == params.get("view")), None)

    form = CustomerFilterForm(params, user=user)
    form.is_valid()

    def listed() -> QuerySet[Customer]:
        found = _filtered(Customer.objects.visible_to(user), form.cleaned_data)
        return custom_fields.filter_queryset(found, TARGET, params, fields=fields)

    customers = listed()
    counted = None  # a search's matches are few ids already, counted at once
    if not form.cleaned_data.get("q"):
        with owners_as_ids():
            counted = listed()

    sort, order = lists.ordering(
        params.get("sort"), SORTS, default=DEFAULT_SORT, nullable=NULLABLE_SORTS
    )
    chosen = params.get(lists.COLUMNS_PARAM) or saved_views.chosen_columns(user, LIST_KEY)
    all_columns = columns_for(fields)
    shown = lists.shown_columns(all_columns, chosen)
    keys = {c.key for c in shown}
    ordered = customers.order_by(*order)
    page = paginate(request, _with_tags(ordered) if "tags" in keys else ordered, counted=counted)

    rows = RowRenderer(
        fields,
        shown,
        selectable=can(user, "customer", Action.EDIT),
        names=_names(),
        tags=_tags_of(page.object_list) if "tags" in keys else {},
    )
    # Every value in the rows went through escape().
    rows_html = mark_safe("".join(rows.row(c) for c in page.object_list))  # noqa: S308

    state = params.copy()
    state["sort"] = sort
    state[lists.COLUMNS_PARAM] = lists.columns_param(shown)
    state_query = saved_views.clean_query(state)
    shown_keys = [c.key for c in shown if not c.fixed]
    hidden = [c for c in all_columns if not c.fixed and c.key not in keys]
    may_transfer = can(user, "customer", Action.APPROVE)
    options = _filter_options(user, params)
    context = {
        "form": form,
        "options": options,
        "custom_filters": _custom_filters(fields, params),
        "more_open": form.more_in_use
        or any(v for k, v in params.items() if k.startswith(custom_fields.FILTER_PREFIX)),
        "page_obj": page,
        "rows_html": rows_html,
        "has_rows": bool(page.object_list),
        "page_ids": ", ".join(f"'{c.pk}'" for c in page.object_list),
        "columns": shown,
        "column_choices": [(c, True) for c in shown if not c.fixed] + [(c, False) for c in hidden],
        "cols": ",".join(shown_keys),
        "sort": sort,
        "filtered": _is_filtered(params),
        "views": views,
        "current_view": current_view,
        "view_param": params.get("view", ""),
        "modified": current_view is not None and state_query != current_view.query,
        "state_query": state_query,
        "back_query": params.urlencode(),
        "may_create": can(user, "customer", Action.CREATE),
        "may_edit": can(user, "customer", Action.EDIT),
        "may_transfer": may_transfer,
        "pages": PAGES,
    }
    template = (
        "customers/_list_results.html" if _wants_results_only(request) else "customers/list.html"
    )
    return render(request, template, context, status=400 if form.errors else 200)


def _transfer_choices(user: User) -> QuerySet[User]:
    return (
        User.objects.visible_to(user)
        .filter(is_active=True)
        .select_related("unit")
        .order_by("username")
    )


# --- Bulk actions -------------------------------------------------------------------------------


class IdListField(forms.Field):
    """Record ids posted as repeated ``ids`` values (checkboxes or hidden inputs)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        ids: list[int] = []
        for item in value or []:
            try:
                pk = int(item)
            except (TypeError, ValueError):
                raise ValidationError(
                    _("Select customers from the list."), code="invalid"
                ) from None
            if pk not in ids:
                ids.append(pk)
        return ids

    def validate(self, value: list[int]) -> None:
        if not value:
            raise ValidationError(_("Select at least one customer."), code="required")
        if len(value) > bulk.MAX_CUSTOMERS:
            raise ValidationError(
                _("Select at most %(count)s customers at once.") % {"count": bulk.MAX_CUSTOMERS},
                code="invalid",
            )


class BulkForm(forms.Form):
    ADD_TAG, REMOVE_TAG, TRANSFER = "add_tag", "remove_tag", "transfer"

    ids = IdListField()
    action = forms.ChoiceField(
        label=gettext_lazy("Action"),
        choices=[
            (ADD_TAG, gettext_lazy("Add a tag")),
            (REMOVE_TAG, gettext_lazy("Remove a tag")),
            (TRANSFER, gettext_lazy("Transfer to another owner")),
        ],
    )
    tag = forms.ModelChoiceField(
        label=gettext_lazy("Tag"), queryset=Tag.objects.none(), required=False
    )
    to_user = forms.ModelChoiceField(
        label=gettext_lazy("New owner"), queryset=User.objects.none(), required=False
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200, required=False)
    back = forms.CharField(widget=forms.HiddenInput, required=False, max_length=4000)

    def __init__(self, data, *, user: User):
        super().__init__(data)
        self.user = user
        self.fields["tag"].queryset = Tag.objects.visible_to(user).order_by("name")
        self.fields["to_user"].queryset = _transfer_choices(user)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        action = data.get("action")
        if action in (self.ADD_TAG, self.REMOVE_TAG) and not data.get("tag"):
            self.add_error("tag", _("Choose a tag."))
        if action == self.TRANSFER:
            if not can(self.user, "customer", Action.APPROVE):
                self.add_error("action", _("Only managers may transfer customers."))
            if not data.get("to_user"):
                self.add_error("to_user", _("Choose the new owner."))
            if not (data.get("reason") or "").strip():
                self.add_error("reason", _("Say why the customers are transferred."))
        return data


def _back_query(raw: str) -> str:
    """The list's query string to return to, re-encoded (never a URL of its own)."""
    return QueryDict(raw[:4000]).urlencode()


@login_required
def customer_bulk(request):
    """Act on the customers ticked on the list: a confirmation page first (what will change,
    what is skipped because the user may not change it), then the action and a message."""
    if request.method != "POST":
        return redirect(PAGES.list_url())
    user = request.user
    form = BulkForm(request.POST, user=user)
    valid = form.is_valid()
    ids = form.cleaned_data.get("ids") or []
    selected = list(Customer.objects.visible_to(user).filter(pk__in=ids).select_related("owner"))
    if len(selected) != len(ids):
        raise Http404  # a customer he may not see: he may not learn that it exists
    editable = set(
        Customer.objects.visible_to(user, Action.EDIT)
        .filter(pk__in=ids)
        .values_list("pk", flat=True)
    )
    changeable = sorted((c for c in selected if c.pk in editable), key=lambda c: c.pinyin_full)
    skipped = [c for c in selected if c.pk not in editable]
    back = _back_query(form.cleaned_data.get("back") or request.POST.get("back", ""))
    if valid and not changeable:
        form.add_error(None, _("You may not change any of the selected customers."))
        valid = False
    if valid and request.POST.get("confirm"):
        data = form.cleaned_data
        try:
            message = _act(data, changeable, user)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, message)
            return redirect(PAGES.list_url(back))
    return render(
        request,
        "customers/list_bulk_confirm.html",
        {
            "form": form,
            "changeable": changeable,
            "skipped": skipped,
            "back_url": PAGES.list_url(back),
            "back": back,
        },
        status=400 if form.errors else 200,
    )


def _act(data: dict[str, Any], customers: list[Customer], user: User) -> str:
    action = data["action"]
    if action == BulkForm.ADD_TAG:
        count = bulk.add_tag(customers, tag=data["tag"], by=user)
        return _("Tag “%(tag)s” added to %(count)s customers.") % {
            "tag": data["tag"],
            "count": count,
        }
    if action == BulkForm.REMOVE_TAG:
        count = bulk.remove_tag(customers, tag=data["tag"], by=user)
        return _("Tag “%(tag)s” removed from %(count)s customers.") % {
            "tag": data["tag"],
            "count": count,
        }
    count = services.transfer_customers(
        customers, to=data["to_user"], reason=data["reason"], by=user
    )
    return _("%(count)s customers transferred to %(user)s.") % {
        "count": count,
        "user": data["to_user"],
    }


# --- Saved views and columns (the shared pages of tuoke.core.views_saved_views) ----------------

SAVED_VIEW_ROUTES = view_pages.routes(
    PAGES,
    record_type="customer",
    columns=lambda: columns_for(custom_fields.fields_for(TARGET)),
    prefix="",
)
