"""Forms of the approval pages: a decision's comment, and the approval flow editor (its fixed
fields here, its condition and step rows parsed from the posted lists). They parse the input;
``tuoke.org.approvals`` decides what a valid flow is and who may decide what."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from . import approvals
from .forms import VersionedForm
from .models import ApprovalMode, ApproverKind

ANY = ApprovalMode.ANY

# How a condition's comparison is written in a sentence ("Amount ≥ ¥500,000.00"); yes/no facts
# read "Foreign currency is yes".
OPERATOR_SYMBOLS: dict[str, Any] = {
    "gte": "≥",
    "gt": ">",
    "lte": "≤",
    "lt": "<",
    "eq": "=",
    "ne": "≠",
    "is_true": approvals.OPERATOR_LABELS["is_true"],
    "is_false": approvals.OPERATOR_LABELS["is_false"],
}


def operator_choices() -> dict[str, str]:
    """The editor's words for each comparison: "≥ at least", "is yes" …"""
    return {
        op: (str(label) if op in ("is_true", "is_false") else f"{OPERATOR_SYMBOLS[op]} {label}")
        for op, label in approvals.OPERATOR_LABELS.items()
    }


class DecisionForm(forms.Form):
    """An approver's comment; returning or rejecting a request must say why."""

    comment = forms.CharField(
        label=pgettext_lazy("approval", "Comment"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, comment_required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.comment_required = comment_required

    def clean_comment(self) -> str:
        comment = self.cleaned_data["comment"].strip()
        if self.comment_required and not comment:
            raise forms.ValidationError(
                _("Say why, so the submitter knows what to change."), code="required"
            )
        return comment


def target_choices() -> list[tuple[str, str]]:
    return [(key, str(target.label)) for key, target in approvals.targets().items()]


class FlowForm(VersionedForm):
    """The flow's own fields; its conditions and steps come from ``FlowRows``."""

    name = forms.CharField(label=_("Name"), max_length=60)
    target = forms.ChoiceField(label=_("Record type"))
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    active = forms.BooleanField(
        label=_("Active"),
        required=False,
        help_text=_("An inactive flow is skipped when records are submitted."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = target_choices()
        # The editor offers the facts of the chosen record type (Alpine).
        self.fields["target"].widget.attrs["x-model"] = "target"

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the flow a name."), code="required")
        return name

    @staticmethod
    def initial_for(flow) -> dict[str, Any]:
        return {
            "name": flow.name,
            "target": flow.target,
            "description": flow.description,
            "active": flow.active,
            "version": flow.version,
        }


@dataclass
class Row:
    """One row of the editor as shown again: what was typed and the errors at its fields."""

    values: dict[str, Any]
    errors: dict[str, list[str]] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        # Strict, so that templates reach ``errors`` as an attribute.
        return self.values[key]

    def get(self, key: str) -> Any:
        return self.values.get(key, "")


@dataclass
class FlowRows:
    """The condition and step rows of the editor, in the order they were posted:
    ``conditions`` and ``steps`` are what the engine is given (row N is the engine's index
    N), ``condition_rows`` and ``step_rows`` what is shown again with the errors."""

    condition_rows: list[Row]
    step_rows: list[Row]
    conditions: list[dict[str, str]]
    steps: list[dict[str, Any]]
    errors: dict[str, list[str]] = field(default_factory=dict)

    CONDITION_FIELDS = ("fact", "op", "value")
    STEP_FIELDS = ("name", "approver_kind", "role", "user", "mode")

    @classmethod
    def from_post(cls, data) -> FlowRows:
        condition_rows = _rows(data, "condition", cls.CONDITION_FIELDS)
        step_rows = _rows(data, "step", cls.STEP_FIELDS)
        conditions = [
            {name: str(row.get(name)).strip() for name in cls.CONDITION_FIELDS}
            for row in condition_rows
        ]
        steps = []
        for row in step_rows:
            step: dict[str, Any] = {
                "name": str(row.get("name")).strip(),
                "approver_kind": row.get("approver_kind"),
                "mode": row.get("mode") or ANY,
            }
            # Only the person or role the kind uses is sent (the engine checks it); the other
            # select keeps its value on the page in case the administrator changes his mind.
            kind = row.get("approver_kind")
            if kind in ("role", "user"):
                step[kind] = str(row.get(kind)).strip()
            steps.append(step)
        return cls(
            condition_rows=condition_rows, step_rows=step_rows, conditions=conditions, steps=steps
        )

    @classmethod
    def from_flow(cls, flow) -> FlowRows:
        condition_rows = [
            Row({"fact": c.get("fact", ""), "op": c.get("op", ""), "value": c.get("value", "")})
            for c in flow.conditions or []
        ]
        step_rows = [
            Row(
                {
                    "name": s.name,
                    "approver_kind": s.approver_kind,
                    "role": s.role_id or "",
                    "user": s.user_id or "",
                    "mode": s.mode,
                }
            )
            for s in flow.steps.all()
        ]
        return cls(condition_rows=condition_rows, step_rows=step_rows, conditions=[], steps=[])

    @classmethod
    def blank(cls) -> FlowRows:
        return cls(
            condition_rows=[],
            step_rows=[Row({"name": "", "approver_kind": ApproverKind.UNIT_MANAGER, "mode": ANY})],
            conditions=[],
            steps=[],
        )

    def add_errors(self, error_dict: dict[str, list]) -> dict[str, list]:
        """Put the engine's errors naming ``conditions.N.field`` / ``steps.N.field`` (or a
        whole list) at their rows; return those about anything else."""
        rest: dict[str, list] = {}
        for key, errors in error_dict.items():
            messages = [m for e in errors for m in getattr(e, "messages", [str(e)])]
            part, _dot, tail = key.partition(".")
            if part not in ("conditions", "steps"):
                rest[key] = errors
                continue
            index_text, _dot, name = tail.partition(".")
            rows = self.condition_rows if part == "conditions" else self.step_rows
            if index_text.isdigit() and int(index_text) < len(rows):
                row = rows[int(index_text)]
                row.errors.setdefault(name or "all", []).extend(messages)
            else:
                self.errors.setdefault(part, []).extend(messages)
        return rest


def _rows(data, prefix: str, names: tuple[str, ...]) -> list[Row]:
    columns = {name: data.getlist(f"{prefix}_{name}") for name in names}
    count = max((len(values) for values in columns.values()), default=0)
    return [
        Row({name: (values[i] if i < len(values) else "") for name, values in columns.items()})
        for i in range(count)
    ]
