"""The contract settings form: it parses the input; ``services.update_settings`` decides."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tuoke.core.models import Sequence

from .models import ContractSettings, CreditRule


class ContractSettingsForm(forms.Form):
    credit_rule = forms.ChoiceField(
        label=_("Sales credit"),
        choices=CreditRule.choices,
        widget=forms.RadioSelect,
    )
    renewal_horizon_days = forms.IntegerField(
        label=_("Renewal reminder (days before the end)"),
        min_value=1,
        max_value=365,
        help_text=_(
            "A contract ending within this many days is listed as due for renewal and becomes "
            "a task in its owner's daily plan."
        ),
    )
    number_pattern = forms.CharField(
        label=_("Contract number pattern"),
        max_length=60,
        help_text=_(
            "Placeholders: {yyyy} year, {yy} short year, {mm} month, {dd} day, {seq} the "
            "counter ({seq:04} pads it to 0001). A number typed on a contract is kept as typed."
        ),
    )
    number_reset = forms.ChoiceField(label=_("Counter restarts"), choices=Sequence.Reset.choices)

    # What each credit rule means, shown under its radio button.
    CREDIT_RULE_HELP = {
        CreditRule.ON_PAYMENT: _(
            "Recommended. A sale counts toward targets and leaderboards only as money arrives: "
            "each payment finance confirms credits its amount to the contract's owner."
        ),
        CreditRule.ON_APPROVAL: _(
            "The whole contract amount counts toward its owner's targets on the day the "
            "contract becomes effective, whether or not the customer has paid."
        ),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The pattern's preview follows the typing (htmx, see settings.html).
        for name in ("number_pattern", "number_reset"):
            self.fields[name].widget.attrs.update(
                {
                    "hx-get": reverse("contracts:settings_preview"),
                    "hx-trigger": "input changed delay:300ms, change",
                    "hx-target": "#number-preview",
                    "hx-include": "[name=number_pattern], [name=number_reset]",
                }
            )

    @staticmethod
    def initial_for(settings_row: ContractSettings, sequence: Sequence) -> dict[str, Any]:
        return {
            "credit_rule": settings_row.credit_rule,
            "renewal_horizon_days": settings_row.renewal_horizon_days,
            "number_pattern": sequence.pattern,
            "number_reset": sequence.reset,
        }

    def credit_rule_options(self) -> list[dict[str, Any]]:
        """The radio buttons with their explanation, for the template."""
        chosen = str(self["credit_rule"].value() or "")
        return [
            {
                "value": value,
                "label": label,
                "help": self.CREDIT_RULE_HELP.get(value, ""),
                "checked": value == chosen,
            }
            for value, label in CreditRule.choices
        ]
