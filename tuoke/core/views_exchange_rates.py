"""Exchange rate pages: the rate of each currency today, the history (filtered by currency),
and the forms finance and administrators use to add, correct and delete rates.

Everyone who may view rates reads the list (every report converts with them); changing them
needs ``edit`` on ``exchange_rate``, and a rate is fetched for its edit and delete pages with
that action, so anybody else gets 404. Writes go through ``tuoke.core.money``.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import money
from .errors import Conflict
from .models import Action, ExchangeRate
from .scope import can, get_for, require
from .views import add_service_error, audit_trail, paginate

RECORD_TYPE = ExchangeRate.record_type
HISTORY_PAGE_SIZE = 50


def rate_text(rate: Decimal | None) -> str:
    """A rate without the column's trailing zeros: 7.10000000 → "7.1"."""
    if rate is None:
        return ""
    return format(rate.normalize(), "f")


class ExchangeRateForm(forms.Form):
    """A rate as finance types it; ``tuoke.core.money`` decides what is allowed."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    currency = forms.CharField(
        label=gettext_lazy("Currency"),
        max_length=3,
        widget=forms.TextInput(
            attrs={"list": "currency-codes", "autocapitalize": "characters", "maxlength": 3}
        ),
        help_text=gettext_lazy("Three-letter ISO code, e.g. USD."),
    )
    valid_on = forms.DateField(
        label=gettext_lazy("Valid from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    rate = forms.DecimalField(
        label=gettext_lazy("Rate"),
        max_digits=18,
        decimal_places=8,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rate"].help_text = _(
            "What one unit of the currency is worth in %(reporting)s."
        ) % {"reporting": money.reporting_currency()}


def _rate_for(user, pk: int) -> ExchangeRate:
    return get_for(user, ExchangeRate.objects.all(), pk, Action.EDIT)


def current_rates(user, day) -> list[ExchangeRate]:
    """The rate each currency has on ``day``, by currency."""
    return list(money.valid_on(ExchangeRate.objects.visible_to(user), day).order_by("currency"))


@login_required
def rate_list(request):
    require(request.user, RECORD_TYPE, Action.VIEW)
    today = timezone.localdate()
    rates = ExchangeRate.objects.visible_to(request.user)
    currencies = sorted(set(rates.values_list("currency", flat=True).distinct()))
    chosen = request.GET.get("currency", "").strip().upper()
    if chosen not in currencies:
        chosen = ""
    history = rates.select_related("updated_by").order_by("-valid_on", "currency", "-pk")
    if chosen:
        history = history.filter(currency=chosen)
    page = paginate(request, history, per_page=HISTORY_PAGE_SIZE)
    for rate in page.object_list:
        rate.shown = rate_text(rate.rate)
        rate.upcoming = rate.valid_on > today
    current = current_rates(request.user, today)
    for rate in current:
        rate.shown = rate_text(rate.rate)
    return render(
        request,
        "exchange_rates/list.html",
        {
            "page_obj": page,
            "current": current,
            "currencies": currencies,
            "chosen": chosen,
            "today": today,
            "reporting": money.reporting_currency(),
            "may_edit": can(request.user, RECORD_TYPE, Action.EDIT),
        },
    )


def _form_context(form, rate=None, request=None) -> dict:
    context = {
        "form": form,
        "rate": rate,
        "reporting": money.reporting_currency(),
        "known": sorted(c for c in money.CURRENCIES if c != money.reporting_currency()),
    }
    if rate is not None and request is not None:
        context["audit_page"] = audit_trail(request, rate)
    return context


@login_required
def rate_create(request):
    require(request.user, RECORD_TYPE, Action.EDIT)
    initial = {"currency": request.GET.get("currency", "")[:3], "valid_on": timezone.localdate()}
    form = ExchangeRateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            rate = money.create_rate(
                currency=data["currency"],
                valid_on=data["valid_on"],
                rate=data["rate"],
                note=data["note"],
                by=request.user,
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("The rate of %(currency)s from %(day)s was saved.")
                % {"currency": rate.currency, "day": rate.valid_on.isoformat()},
            )
            return redirect(f"{_list_url()}?currency={rate.currency}")
    return render(request, "exchange_rates/form.html", _form_context(form))


@login_required
def rate_edit(request, pk: int):
    rate = _rate_for(request.user, pk)
    initial = {
        "currency": rate.currency,
        "valid_on": rate.valid_on,
        "rate": rate_text(rate.rate),
        "note": rate.note,
        "version": rate.version,
    }
    form = ExchangeRateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            money.update_rate(
                rate,
                by=request.user,
                version=data.get("version"),
                currency=data["currency"],
                valid_on=data["valid_on"],
                rate=data["rate"],
                note=data["note"],
            )
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("The rate of %(currency)s from %(day)s was saved.")
                % {"currency": rate.currency, "day": rate.valid_on.isoformat()},
            )
            return redirect(f"{_list_url()}?currency={rate.currency}")
    return render(request, "exchange_rates/form.html", _form_context(form, rate, request))


@login_required
def rate_delete(request, pk: int):
    rate = _rate_for(request.user, pk)
    if request.method == "POST":
        money.delete_rate(rate, by=request.user)
        messages.success(
            request,
            _("The rate of %(currency)s from %(day)s was moved to the recycle bin.")
            % {"currency": rate.currency, "day": rate.valid_on.isoformat()},
        )
        return redirect(f"{_list_url()}?currency={rate.currency}")
    return render(
        request,
        "exchange_rates/delete.html",
        {"rate": rate, "shown": rate_text(rate.rate), "reporting": money.reporting_currency()},
    )


def _list_url() -> str:
    return reverse("exchange_rates:list")
