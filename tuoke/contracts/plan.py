"""The daily plan's contract sources (registered from ``hooks.install``):

- ``overdue_instalment``: an instalment of an effective contract whose due date passed and
  that is not fully paid becomes a task for the contract's owner, on the customer, naming the
  contract, the instalment, what is outstanding and since when;
- ``renewal_due``: an effective contract ending within the renewal horizon
  (``ContractSettings.renewal_horizon_days``) that has no live renewal (one not deleted nor
  terminated, as the "ending soon" list counts: ``queries.live_renewals``) becomes a
  "Renewal coming" task for its owner.

Both read with one set-based query each. A task done (or deleted) comes back a week later if
the money is still outstanding or the renewal still missing (``COOLDOWN_DAYS``), not the next
morning; at most ``PLAN_CONTRACT_DAILY_CAP`` (settings, default 20) open tasks per owner and
source, the longest overdue (the soonest ending) first.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.conf import settings
from django.db.models import CharField, Count, Exists, F, OuterRef, Q, Value, Window
from django.db.models.functions import Cast, Concat, RowNumber
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tuoke.activities.models import Task
from tuoke.activities.plan import (
    Draft,
    PlanSource,
    _Languages,
    day_label,
    day_start,
    register,
)

from .models import Contract, ContractSettings, ContractStatus, Instalment
from .queries import live_renewals
from .timeline import money

OVERDUE_SOURCE = "overdue_instalment"
RENEWAL_SOURCE = "renewal_due"
OVERDUE_KIND = "call"
RENEWAL_KIND = "visit"
DEFAULT_CAP = 20
COOLDOWN_DAYS = 7


def contract_cap() -> int:
    return int(getattr(settings, "PLAN_CONTRACT_DAILY_CAP", DEFAULT_CAP))


def instalment_key(instalment_id: int) -> str:
    return f"instalment:{instalment_id}"


def contract_key(contract_id: int) -> str:
    return f"contract:{contract_id}"


def short_day(value: date, *, today: date) -> str:
    """ "11月20日 周五" / "Fri, Nov 20" in the active language (as the plan writes days);
    2024-11-20 when it is not this year's."""
    if value.year == today.year:
        return day_label(value)
    return value.isoformat()


def _handled(source: str, prefix: str, day: date):
    """Tasks of ``source`` for the outer row's key that are open, or were done or deleted
    less than a cooldown ago: the row waits for them."""
    since = day_start(day - timedelta(days=COOLDOWN_DAYS - 1))
    return Task.all_objects.filter(
        source=source,
        source_key=Concat(Value(prefix), Cast(OuterRef("pk"), CharField())),
    ).filter(
        Q(done_at__isnull=True, deleted_at__isnull=True)
        | Q(done_at__gte=since)
        | Q(deleted_at__gte=since)
    )


def _taken(source: str) -> dict[int, int]:
    return dict(
        Task.objects.filter(source=source, done_at__isnull=True)
        .values("owner_id")
        .annotate(n=Count("pk"))
        .values_list("owner_id", "n")
    )


def _capped(rows: list[tuple], source: str, cap: int) -> dict[int, list[tuple]]:
    """Rows (owner id second) per owner, each owner's cut to the room his open tasks of
    the source leave under the cap; rows come ranked already."""
    taken = _taken(source)
    by_owner: dict[int, list[tuple]] = defaultdict(list)
    for row in rows:
        by_owner[row[1]].append(row)
    return {owner: found[: max(cap - taken.get(owner, 0), 0)] for owner, found in by_owner.items()}


# --- Overdue instalments ------------------------------------------------------------------------


def overdue_drafts(day: date) -> list[Draft]:
    """Instalments of effective contracts due before ``day`` and not fully paid, whose
    contract's owner is active and customer alive, without a task of this source (open, or
    handled within the cooldown); per owner the longest overdue first, up to the cap."""
    cap = contract_cap()
    if cap <= 0:
        return []
    rows = list(
        Instalment.objects.filter(
            due_on__lt=day,
            paid_amount__lt=F("amount"),
            contract__status=ContractStatus.EFFECTIVE,
            contract__deleted_at__isnull=True,
            contract__owner__is_active=True,
            contract__customer__deleted_at__isnull=True,
        )
        .filter(~Exists(_handled(OVERDUE_SOURCE, "instalment:", day)))
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("contract__owner_id")],
                order_by=[F("due_on").asc(), F("pk").asc()],
            )
        )
        .filter(rank__lte=cap)
        .order_by()
        .values_list(
            "pk",
            "contract__owner_id",
            "contract__customer_id",
            "contract__number",
            "contract__currency",
            "position",
            "due_on",
            "amount",
            "paid_amount",
        )
    )
    rows.sort(key=lambda r: (r[6], r[0]))
    per_owner = _capped(rows, OVERDUE_SOURCE, cap)
    language = _Languages(per_owner)
    drafts = []
    for owner, found in per_owner.items():
        for pk, _owner, customer, number, currency, position, due, amount, paid in found:
            with language(owner):
                title = _(
                    "Overdue payment: %(number)s instalment %(position)s, %(outstanding)s "
                    "outstanding since %(day)s"
                ) % {
                    "number": number,
                    "position": position,
                    "outstanding": money(amount - paid, currency),
                    "day": short_day(due, today=day),
                }
                note = _("Due %(days)s days ago: %(amount)s, of which %(paid)s received.") % {
                    "days": (day - due).days,
                    "amount": money(amount, currency),
                    "paid": money(paid, currency),
                }
            drafts.append(
                Draft(
                    owner_id=owner,
                    source_key=instalment_key(pk),
                    title=title,
                    due_on=day,
                    customer_id=customer,
                    kind=OVERDUE_KIND,
                    note=note,
                )
            )
    return drafts


# --- Renewals due -------------------------------------------------------------------------------


def renewal_drafts(day: date) -> list[Draft]:
    """Effective contracts ending within the horizon from ``day`` (today included) with no
    live renewal, for their active owners; per owner the soonest ending first, up to the
    cap."""
    cap = contract_cap()
    if cap <= 0:
        return []
    horizon = ContractSettings.current().renewal_horizon_days
    rows = list(
        Contract.objects.filter(
            status=ContractStatus.EFFECTIVE,
            ends_on__gte=day,
            ends_on__lte=day + timedelta(days=horizon),
            owner__is_active=True,
            customer__deleted_at__isnull=True,
        )
        .filter(~Exists(live_renewals()))
        .filter(~Exists(_handled(RENEWAL_SOURCE, "contract:", day)))
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("owner_id")],
                order_by=[F("ends_on").asc(), F("pk").asc()],
            )
        )
        .filter(rank__lte=cap)
        .order_by()
        .values_list(
            "pk", "owner_id", "customer_id", "number", "title", "ends_on", "amount", "currency"
        )
    )
    rows.sort(key=lambda r: (r[5], r[0]))
    per_owner = _capped(rows, RENEWAL_SOURCE, cap)
    language = _Languages(per_owner)
    drafts = []
    for owner, found in per_owner.items():
        for pk, _owner, customer, number, title, ends_on, amount, currency in found:
            with language(owner):
                task_title = _("Renewal coming: %(number)s %(title)s ends on %(day)s") % {
                    "number": number,
                    "title": title,
                    "day": short_day(ends_on, today=day),
                }
                note = _(
                    "%(days)s days left; contract amount %(amount)s. Draft the renewal from "
                    "the contract's page."
                ) % {"days": (ends_on - day).days, "amount": money(amount, currency)}
            drafts.append(
                Draft(
                    owner_id=owner,
                    source_key=contract_key(pk),
                    title=task_title,
                    due_on=day,
                    customer_id=customer,
                    kind=RENEWAL_KIND,
                    note=note,
                )
            )
    return drafts


def register_sources() -> None:
    register(
        PlanSource(
            key=OVERDUE_SOURCE,
            label=gettext_lazy("Overdue payments"),
            generate=overdue_drafts,
            order=40,
        )
    )
    register(
        PlanSource(
            key=RENEWAL_SOURCE,
            label=gettext_lazy("Renewals coming"),
            generate=renewal_drafts,
            order=41,
        )
    )
