"""The demo's contracts (a step of ``tuoke demo``, after the sales): a contract for each won
demo opportunity (same customer, owner, amount and currency, signed on the win date, numbered
from the contract sequence) and one for each signed customer whose deal came before the
demo's year, each with a payment plan of one to four instalments; payments entered by finance
(a few recorded by reps still waiting for finance), invoices issued (专票/普票) and requested,
contracts completed and renewed (renewals in force and a draft), a few ending within the
renewal horizon, churned customers' contracts terminated, and requests waiting in the
approvers' queues (the sales director's and finance's among them).

Everything goes through the services and the approval engine, as people would have done it,
one step at a time in the order it happened; each step is then dated when it happened (the
rows it wrote, their audit entries, approval actions and credit). Notifications of what is
history are dropped once the demo is committed; those still asking someone to act stay.
Deterministic (fixed seed); running it again adds nothing.
"""

from __future__ import annotations

import calendar
import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from tuoke.core.models import AuditEntry, ExchangeRate, Notification
from tuoke.customers.models import Customer, LifecycleChange, LifecycleStatus
from tuoke.org.models import ApprovalAction, ApprovalRequest, ApprovalRequestStep, User
from tuoke.sales.models import Opportunity, OpportunityStatus

from .models import (
    Contract,
    ContractStatus,
    Instalment,
    Invoice,
    Payment,
    SalesCredit,
)

SEED = 20261127
OWNERS = ("rep_east1", "rep_east2", "rep_south1", "rep_south2", "manager_east", "manager_south")
# Months of a contract's term and their shares.
TERMS = ((12, 0.6), (6, 0.25), (3, 0.15))
# How customers pay: on time, late (later instalments overdue), partly, hardly at all.
PAYERS = (("prompt", 0.6), ("slow", 0.2), ("partial", 0.12), ("stuck", 0.08))
# Instalment shares of the amount, with their notes, by number of instalments.
SCHEDULES: dict[int, tuple[tuple[str, str], ...]] = {
    1: (("1", "全款"),),
    2: (("0.5", "首付款"), ("0.5", "尾款")),
    3: (("0.3", "预付款"), ("0.6", "验收款"), ("0.1", "质保金")),
    4: (("0.25", "第一期"), ("0.25", "第二期"), ("0.25", "第三期"), ("0.25", "第四期")),
}
RENEWALS = ("effective", "draft", "effective", "none")  # in turn, for contracts ending
# Where the newest large deals of reps stand in their approval, newest first.
PENDING_STAGES = ("manager", "director", "director", "finance", "finance", "returned")
LARGE = Decimal("500000")
USD_RATES = ("7.1012", "7.1188", "7.1305", "7.1420", "7.1236", "7.1103", "7.0987", "7.1150")
APPROVE_COMMENTS = ("同意", "价格和付款条件已确认，同意", "", "同意签约")
FINANCE_COMMENTS = ("付款条件符合公司政策", "同意", "")
RETURN_COMMENT = "付款条件不符合公司政策：预付款不少于30%，请调整后重新提交"
TERMINATION_REASON = "客户经营调整，双方协商提前终止合同"
FOREIGN_TITLES = ("海外工厂 MES 部署合同", "出口产线设备联网服务合同")


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _weighted(rng: random.Random, choices) -> Any:
    draw = rng.random()
    for value, share in choices:
        if draw < share:
            return value
        draw -= share
    return choices[0][0]


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _office(moment: datetime, *, hour: int | None = None) -> datetime:
    """The same day within office hours (9:00–18:00, local), at ``hour`` when given."""
    local = timezone.localtime(moment)
    if hour is None:
        hour = local.hour if 9 <= local.hour < 18 else 9 + local.hour % 9
    return _at(local.date(), hour, local.minute)


# --- The plan of each contract ------------------------------------------------------------------


@dataclass
class _Deal:
    """A contract as it will have lived: its facts, plan, payments, where its approval
    stands, and what became of it."""

    key: str
    customer: Customer
    owner: User
    title: str
    amount: Decimal
    drafted: datetime
    signed_on: date | None
    starts_on: date
    months: int
    payer: str
    count: int
    currency: str = "CNY"
    opportunity: Opportunity | None = None
    stage: str = "history"  # or manager, director, finance, returned: pending now
    churned_at: datetime | None = None
    renewal: str = ""  # effective, draft, none
    renews: str = ""  # the key of the deal it renews
    invoiced: bool = False
    # The instalment whose payment the rep recorded (finance has not confirmed it yet).
    rep_records: int | None = None
    rep_requests_invoice: bool = False

    @property
    def ends_on(self) -> date:
        return _add_months(self.starts_on, self.months) - timedelta(days=1)

    def plan(self) -> list[tuple[date, Decimal, str]]:
        """(due on, amount, note) of its instalments over its term."""
        term = (self.ends_on - self.starts_on).days + 1
        shares = SCHEDULES[self.count]
        rows = []
        left = self.amount
        for index, (share, note) in enumerate(shares):
            if self.count == 4:
                offset = 15 + term * index // 4
            elif index == 0:
                offset = 15
            else:
                offset = int(term * (0.45 if index == 1 else 0.9))
            amount = (
                (self.amount * Decimal(share)).quantize(Decimal("0.01"))
                if index < len(shares) - 1
                else left
            )
            left -= amount
            rows.append((self.starts_on + timedelta(days=offset), amount, note))
        return rows

    def payments(self, rng: random.Random, today: date) -> list[tuple[date, int, Decimal]]:
        """(received on, instalment index, amount) as its payer paid, up to yesterday."""
        paid = []
        for index, (due, amount, _note) in enumerate(self.plan()):
            lag = rng.randint(-3, 10)
            share = Decimal("1")
            if index > 0 and self.payer == "slow":
                lag = rng.randint(35, 70)
            elif index == 1 and self.payer == "partial":
                share = Decimal("0.5")
            elif index > 1 and self.payer == "partial":
                continue
            elif self.payer == "stuck":
                if index > 0:
                    continue
                share, lag = Decimal("0.6"), rng.randint(15, 25)
            day = due + timedelta(days=lag)
            if day >= today:
                continue
            paid.append((day, index, (amount * share).quantize(Decimal("0.01"))))
        return paid


def _term(rng: random.Random, amount: Decimal) -> tuple[int, int]:
    months = _weighted(rng, TERMS)
    choices = {3: (1, 2), 6: (1, 2, 3), 12: (2, 3, 4) if amount >= 100_000 else (1, 2)}
    return months, rng.choice(choices[months])


def _plan_deals(rng: random.Random, customers: list[Customer], people: dict, today: date):
    """The contracts of the demo, with their fates adjusted so that the demo shows each kind
    (completed and renewed, ending soon, long overdue, pending with each approver)."""
    by_id = {c.pk: c for c in customers}
    changes: dict[int, dict[str, datetime]] = {}
    for customer_id, to, at in LifecycleChange.objects.filter(
        customer__in=customers, to_status__in=[LifecycleStatus.SIGNED, LifecycleStatus.CHURNED]
    ).values_list("customer_id", "to_status", "at"):
        changes.setdefault(customer_id, {})[to] = at
    won = list(
        Opportunity.objects.filter(customer__in=customers, status=OpportunityStatus.WON)
        .select_related("owner")
        .order_by("closed_at", "pk")
    )
    deals: list[_Deal] = []
    for opp in won:
        customer = by_id[opp.customer_id]
        win = timezone.localtime(opp.closed_at)
        amount = opp.amount or Decimal("100000")
        months, count = _term(rng, amount)
        deals.append(
            _Deal(
                key=f"opportunity:{opp.pk}",
                customer=customer,
                owner=opp.owner,
                title=opp.title[:190],
                amount=amount,
                currency=opp.currency,
                opportunity=opp,
                drafted=_office(win + timedelta(hours=2)),
                signed_on=win.date(),
                starts_on=win.date() + timedelta(days=rng.randint(0, 7)),
                months=months,
                count=count,
                payer=_weighted(rng, PAYERS),
                churned_at=changes.get(customer.pk, {}).get(LifecycleStatus.CHURNED),
            )
        )
    # Customers signed on a deal older than the demo's year: their contract, signed then.
    with_deal = {o.customer_id for o in won}
    earlier = [
        c
        for c in customers
        if c.lifecycle_status in (LifecycleStatus.SIGNED, LifecycleStatus.CHURNED)
        and c.pk not in with_deal
    ]
    foreign = [c for c in earlier if c.owner.username.startswith("rep_")][:2]
    for customer in earlier:
        signed = changes.get(customer.pk, {}).get(LifecycleStatus.SIGNED)
        signed = timezone.localtime(signed or customer.created_at + timedelta(days=30))
        amount = Decimal(rng.randrange(80, 1200) * 1000)
        months, count = _term(rng, amount)
        in_dollars = customer in foreign[:1]
        deals.append(
            _Deal(
                key=f"customer:{customer.pk}",
                customer=customer,
                owner=customer.owner,
                title=(
                    f"{customer.short_name}{FOREIGN_TITLES[0]}"
                    if in_dollars
                    else f"{customer.short_name}年度服务合同"
                ),
                amount=Decimal(rng.randrange(40, 70) * 1000) if in_dollars else amount,
                currency="USD" if in_dollars else "CNY",
                drafted=_office(signed - timedelta(days=2)),
                signed_on=(signed - timedelta(days=1)).date(),
                starts_on=signed.date(),
                months=months,
                count=count,
                payer="prompt" if in_dollars else _weighted(rng, PAYERS),
                churned_at=changes.get(customer.pk, {}).get(LifecycleStatus.CHURNED),
            )
        )
    _pending(deals, rng, today)
    if len(foreign) > 1:
        customer = foreign[1]
        deals.append(
            _Deal(
                key=f"foreign:{customer.pk}",
                customer=customer,
                owner=customer.owner,
                title=f"{customer.short_name}{FOREIGN_TITLES[1]}",
                amount=Decimal("52000"),
                currency="USD",
                drafted=_at(today - timedelta(days=3), 10),
                signed_on=None,
                starts_on=today + timedelta(days=14),
                months=12,
                count=2,
                payer="prompt",
                stage="finance",
            )
        )
    deals.sort(key=lambda d: (d.drafted, d.key))
    _ensure_variety(deals, today)
    _renewals(deals, today)
    _paper_work(deals, rng, today)
    return deals


def _pending(deals: list[_Deal], rng: random.Random, today: date) -> None:
    """The newest large deals of reps are still in their approval."""
    candidates = sorted(
        (
            d
            for d in deals
            if d.opportunity is not None
            and d.owner.username.startswith("rep_")
            and d.amount >= LARGE
            and d.churned_at is None
        ),
        key=lambda d: d.drafted,
        reverse=True,
    )
    for deal, stage in zip(candidates, PENDING_STAGES, strict=False):
        deal.stage = stage
        deal.signed_on = None
        # Still being approved: drafted a few days ago at most, whatever the win date.
        newest = _at(today - timedelta(days=PENDING_STAGES.index(stage) + 4), 9, 30)
        deal.drafted = min(deal.drafted, newest)
        deal.starts_on = max(deal.starts_on, today + timedelta(days=7))


def _history(deals: list[_Deal]) -> list[_Deal]:
    return [d for d in deals if d.stage == "history" and d.churned_at is None]


def _ensure_variety(deals: list[_Deal], today: date) -> None:
    """Contracts that have ended and been paid (to complete and renew), some ending within
    the next two months, and money more than 90 days overdue."""
    history = [d for d in _history(deals) if d.currency == "CNY"]
    ended = [d for d in history if d.ends_on < today - timedelta(days=30)]
    for deal in history:  # the oldest first
        if len(ended) >= 4:
            break
        if deal in ended or deal.starts_on > today - timedelta(days=130):
            continue
        deal.months, deal.count, deal.payer = 3, 2, "prompt"
        ended.append(deal)
    soon = [d for d in history if today + timedelta(days=11) <= d.ends_on <= today + timedelta(60)]
    for deal in reversed(history):  # the newest first
        if len(soon) >= 3:
            break
        if deal in ended or deal in soon:
            continue
        for months in (3, 6):
            if (
                today + timedelta(days=11)
                <= _add_months(deal.starts_on, months)
                <= today + (timedelta(days=60))
            ):
                deal.months, deal.count = months, min(deal.count, 2)
                soon.append(deal)
                break
    late = today - timedelta(days=91)
    if not any(
        due < late and deal.payer != "prompt"
        for deal in history
        for index, (due, _a, _n) in enumerate(deal.plan())
        if index > 0
    ):
        for deal in history:
            if deal in ended or deal in soon or deal.months != 12:
                continue
            deal.count, deal.payer = 4, "slow"
            if deal.plan()[1][0] < late:
                break


def _renewals(deals: list[_Deal], today: date) -> None:
    """Contracts ending by the next ten days are renewed in turn: in force, as a draft, or
    not at all; the renewal continues the term."""
    turn = 0
    for deal in list(_history(deals)):
        if deal.renews or deal.ends_on > today + timedelta(days=10):
            continue
        what = RENEWALS[turn % len(RENEWALS)]
        turn += 1
        deal.renewal = what
        if what == "none":
            continue
        starts = deal.ends_on + timedelta(days=1)
        drafted = _at(deal.ends_on - timedelta(days=25 if what == "effective" else 5), 10)
        deals.append(
            _Deal(
                key=f"renewal:{deal.key}",
                customer=deal.customer,
                owner=deal.owner,
                title=deal.title,
                amount=deal.amount,
                currency=deal.currency,
                drafted=min(drafted, _at(today - timedelta(days=2), 10)),
                signed_on=deal.ends_on - timedelta(days=10) if what == "effective" else None,
                starts_on=starts,
                months=12,
                count=2 if deal.amount < 300_000 else 4,
                payer="prompt",
                stage="history" if what == "effective" else "draft",
                renews=deal.key,
            )
        )
    deals.sort(key=lambda d: (d.drafted, d.key))


def _paper_work(deals: list[_Deal], rng: random.Random, today: date) -> None:
    """Who invoices (finance for most paying customers, before the money), which reps
    recorded a payment finance has not confirmed yet, which asked for an invoice."""
    recorded = requested = 0
    for deal in _history(deals):
        deal.invoiced = rng.random() < 0.7
        plan = deal.plan()
        recent = [
            index
            for index, (due, _amount, _note) in enumerate(plan)
            if today - timedelta(days=20) <= due <= today - timedelta(days=2)
        ]
        if recorded < 3 and recent and deal.payer == "prompt" and deal.currency == "CNY":
            deal.rep_records = recent[-1]
            recorded += 1
            continue
        coming = [due for due, _a, _n in plan if today <= due <= today + timedelta(days=30)]
        if requested < 3 and coming and deal.owner.username.startswith("rep_"):
            deal.rep_requests_invoice = True
            requested += 1


# --- Dating what the services wrote -------------------------------------------------------------

# Every timestamp a service writes "now": after each step of the story they are set to the
# moment the step happened (all of them in the past, so "written since the build started"
# says exactly which).
STAMPED: tuple[tuple[Any, tuple[str, ...]], ...] = (
    (Contract, ("created_at", "updated_at", "effective_at", "closed_at")),
    (Instalment, ("created_at", "updated_at")),
    (Payment, ("created_at", "updated_at", "confirmed_at")),
    (Invoice, ("created_at", "updated_at")),
    (ApprovalRequest, ("created_at", "updated_at", "submitted_at", "decided_at")),
    (ApprovalRequestStep, ("decided_at",)),
    (ApprovalAction, ("at",)),
    (SalesCredit, ("created_at",)),
    (AuditEntry, ("at",)),
    (LifecycleChange, ("at",)),
    (Customer, ("updated_at",)),
    (ExchangeRate, ("created_at", "updated_at")),
    (Notification, ("created_at",)),
)


class _Clock:
    """Dates what the services wrote since the build started (one UPDATE a table, its SQL
    written once: the story has hundreds of steps)."""

    def __init__(self) -> None:
        self.started = timezone.now()
        quote = connection.ops.quote_name
        self.statements = []
        for model, names in STAMPED:
            columns = [quote(model._meta.get_field(name).column) for name in names]
            sets = ", ".join(f"{c} = CASE WHEN {c} >= %s THEN %s ELSE {c} END" for c in columns)
            where = " OR ".join(f"{c} >= %s" for c in columns)
            table = quote(model._meta.db_table)
            # Names from the models; the values are parameters.
            sql = f"UPDATE {table} SET {sets} WHERE {where}"  # noqa: S608
            self.statements.append((sql, len(columns)))

    def stamp(self, at: datetime) -> None:
        started = connection.ops.adapt_datetimefield_value(self.started)
        moment = connection.ops.adapt_datetimefield_value(at)
        with connection.cursor() as cursor:
            for sql, count in self.statements:
                cursor.execute(sql, [started, moment] * count + [started] * count)


# --- The story ----------------------------------------------------------------------------------


@dataclass(order=True)
class _Step:
    at: datetime
    order: int
    act: Callable[[], None] = field(compare=False)


class _Story:
    """Steps of every contract's life, told in the order they happened."""

    def __init__(self, clock: _Clock, now: datetime) -> None:
        self.clock = clock
        self.latest = now - timedelta(minutes=30)
        self.steps: list[_Step] = []
        self.order = 0

    def add(self, at: datetime, act: Callable[[], None]) -> datetime:
        at = min(at, self.latest)
        self.order += 1
        heapq.heappush(self.steps, _Step(at, self.order, act))
        return at

    def tell(self) -> int:
        told = 0
        while self.steps:
            step = heapq.heappop(self.steps)
            step.act()
            self.clock.stamp(step.at)
            told += 1
        return told


class _Builder:
    def __init__(self, people: dict[str, User], rng: random.Random, today: date, now: datetime):
        from . import invoices, payments, services

        self.people, self.rng, self.today = people, rng, today
        self.services, self.payments, self.invoices = services, payments, invoices
        self.finance = people["finance1"]
        self.contracts: dict[str, Contract] = {}
        self.invoice_number = 44_021_000
        self.clock = _Clock()
        self.story = _Story(self.clock, now)

    # Each act reads its contract afresh: earlier acts changed it.
    def contract(self, key: str) -> Contract:
        return Contract.objects.select_related("owner", "customer").get(pk=self.contracts[key].pk)

    def plan(self, deal: _Deal) -> None:
        at = self.story.add(deal.drafted, lambda: self._draft(deal))
        if deal.stage == "draft":
            return
        at = self.story.add(at + timedelta(minutes=50), lambda: self._submit(deal))
        if deal.stage != "history":
            self._pending_decisions(deal, at)
            return
        # Approved step by step, a day or so apart (no flow: effective at once).
        approved = at
        for step in range(3):
            approved = self.story.add(
                _office(at + timedelta(days=step + 1), hour=10 + 2 * step),
                lambda s=step: self._decide(deal, s),
            )
        effective_day = timezone.localtime(approved).date()
        paid = [(*p, False) for p in deal.payments(self.rng, self.today)]
        if deal.rep_records is not None:
            # The customer paid that instalment a day after it fell due; the rep entered it.
            due, amount, _note = deal.plan()[deal.rep_records]
            paid = [p for p in paid if p[1] != deal.rep_records]
            day = min(due + timedelta(days=1), self.today - timedelta(days=1))
            paid = sorted([*paid, (day, deal.rep_records, amount, True)])
        stop = timezone.localtime(deal.churned_at).date() if deal.churned_at else None
        if stop is not None:
            stop = max(stop - timedelta(days=3), effective_day + timedelta(days=1))
            paid = [p for p in paid if p[0] < stop]
        last_paid = None
        for day, index, amount, by_rep in paid:
            day = max(day, effective_day + timedelta(days=1))
            if day >= self.today:
                continue
            if deal.invoiced and not by_rep:
                invoice_day = max(day - timedelta(days=3), effective_day + timedelta(days=1))
                self.story.add(
                    _at(invoice_day, 15, index * 7),
                    lambda i=index, d=invoice_day: self._issue(deal, i, d),
                )
            self.story.add(
                _at(day, 11 if by_rep else 16, index * 5),
                lambda d=day, a=amount, r=by_rep: self._pay(deal, d, a, r),
            )
            last_paid = day
        if deal.rep_requests_invoice:
            self.story.add(
                _at(self.today - timedelta(days=1), 10), lambda: self._request_invoice(deal)
            )
        if stop is not None and stop < self.today:
            self.story.add(_at(stop, 17), lambda: self._terminate(deal))
            return
        fully_paid = sum((p[2] for p in paid), Decimal("0")) == deal.amount
        if fully_paid and deal.rep_records is None and last_paid is not None:
            done = max(deal.ends_on + timedelta(days=3), last_paid + timedelta(days=1))
            if done < self.today:
                self.story.add(_at(done, 17), lambda: self._complete(deal))

    def _pending_decisions(self, deal: _Deal, submitted: datetime) -> None:
        """Approve the steps before the one it waits at (or return it at the first)."""
        steps = {"manager": 0, "director": 1, "finance": 2, "returned": 0}[deal.stage]
        if deal.currency != "CNY":
            steps = 0  # the foreign-currency flow has finance's step only
        for step in range(steps):
            self.story.add(
                _office(submitted + timedelta(days=step + 1), hour=10 + 2 * step),
                lambda s=step: self._decide(deal, s),
            )
        if deal.stage == "returned":
            self.story.add(
                _office(submitted + timedelta(days=1), hour=11), lambda: self._return(deal)
            )

    # --- Acts ---

    def _draft(self, deal: _Deal) -> None:
        services = self.services
        owner = deal.owner
        number = services.next_number(on=timezone.localtime(deal.drafted).date())
        instalments = [
            {"due_on": due, "amount": amount, "note": note} for due, amount, note in deal.plan()
        ]
        renews = self.contract(deal.renews) if deal.renews else None
        # A renewal as "Renew" drafts it (renew_contract), with its number of the day and
        # its plan given at once.
        self.contracts[deal.key] = services.create_contract(
            customer=deal.customer,
            title=services.renewal_title(deal.title) if renews else deal.title,
            amount=deal.amount,
            currency=deal.currency,
            opportunity=deal.opportunity,
            owner=owner,
            by=owner,
            number=number,
            signed_on=deal.signed_on,
            starts_on=deal.starts_on,
            ends_on=deal.ends_on,
            renews=renews,
            instalments=instalments,
        )

    def _submit(self, deal: _Deal) -> None:
        contract = self.contract(deal.key)
        try:
            self.services.submit_contract(contract, by=deal.owner)
        except ValidationError:
            # A flow nobody can take (an administrator's change to the defaults): the demo
            # signs it off as if no flow applied rather than leave the customer unsigned.
            self.services.make_effective(contract, by=deal.owner)

    def _request(self, deal: _Deal) -> ApprovalRequest | None:
        return ApprovalRequest.objects.filter(
            target="contract", object_id=self.contracts[deal.key].pk, status="pending"
        ).first()

    def _approver(self, request: ApprovalRequest) -> User:
        step = request.steps.get(position=request.current_step)
        return step.approvers.order_by("pk").first()

    def _decide(self, deal: _Deal, step: int) -> None:
        from tuoke.org import approvals

        request = self._request(deal)
        if request is None or request.current_step != step + 1:
            return  # no flow, or fewer steps: decided already
        approver = self._approver(request)
        comments = FINANCE_COMMENTS if approver.pk == self.finance.pk else APPROVE_COMMENTS
        approvals.approve(request, by=approver, comment=self.rng.choice(comments))

    def _return(self, deal: _Deal) -> None:
        from tuoke.org import approvals

        request = self._request(deal)
        if request is not None:
            approvals.return_for_changes(
                request, by=self._approver(request), comment=RETURN_COMMENT
            )

    def _pay(self, deal: _Deal, day: date, amount: Decimal, by_rep: bool) -> None:
        contract = self.contract(deal.key)
        self.payments.record_payment(
            contract=contract,
            amount=amount,
            received_on=day,
            by=deal.owner if by_rep else self.finance,
            method=self.rng.choice(("bank_transfer",) * 4 + ("acceptance_bill",)),
            reference=""
            if by_rep
            else f"{day:%Y%m%d}{contract.pk:04d}{self.rng.randint(0, 99):02d}",
            note="客户已付款，银行回单见附件" if by_rep else "",
        )

    def _issue(self, deal: _Deal, index: int, day: date) -> None:
        contract = self.contract(deal.key)
        instalment = contract.instalments.order_by("position")[index]
        self.invoice_number += self.rng.randint(1, 40)
        self.invoices.create_invoice(
            contract=contract,
            amount=instalment.amount,
            by=self.finance,
            kind="vat_special" if self.rng.random() < 0.75 else "vat_normal",
            tax_rate=Decimal("13") if self.rng.random() < 0.8 else Decimal("6"),
            number=f"{self.invoice_number:08d}",
            issued_on=day,
        )

    def _request_invoice(self, deal: _Deal) -> None:
        contract = self.contract(deal.key)
        invoiced = (
            Invoice.objects.filter(contract=contract)
            .exclude(status="void")
            .aggregate(total=Sum("amount"))["total"]
        )
        upcoming = contract.instalments.filter(due_on__gte=self.today).order_by("due_on").first()
        if upcoming is None or contract.status != ContractStatus.EFFECTIVE:
            return
        left = contract.amount - (invoiced or Decimal("0"))
        if upcoming.amount <= left:
            self.invoices.create_invoice(
                contract=contract,
                amount=upcoming.amount,
                by=deal.owner,
                kind="vat_special",
                note="客户要求付款前开具专票",
            )

    def _complete(self, deal: _Deal) -> None:
        contract = self.contract(deal.key)
        if contract.status == ContractStatus.EFFECTIVE and contract.outstanding == 0:
            self.services.complete_contract(contract, by=deal.owner)

    def _terminate(self, deal: _Deal) -> None:
        """Ended early by the owner's manager (a manager's decision)."""
        contract = self.contract(deal.key)
        if contract.status == ContractStatus.EFFECTIVE:
            self.services.terminate_contract(
                contract, by=self._manager_of(deal.owner), reason=TERMINATION_REASON
            )

    def _manager_of(self, person: User) -> User:
        unit = person.unit
        while unit is not None:
            if unit.manager_id and unit.manager_id != person.pk:
                return unit.manager
            unit = unit.parent
        return self.people["director"]


def demo_customers() -> list[Customer]:
    from tuoke.sales.demo import demo_customers as sales_customers

    return sales_customers()


def build_contracts() -> dict[str, int]:
    """The demo's contracts once: a second run adds nothing."""
    customers = demo_customers()
    ids = [c.pk for c in customers]
    if not customers or Contract.all_objects.filter(customer_id__in=ids).exists():
        return {}
    from .defaults import install_defaults

    install_defaults()  # the default approval flows and settings, if migrate did not
    return _build(customers)


@transaction.atomic
def _build(customers: list[Customer]) -> dict[str, int]:
    from tuoke.org.demo import PEOPLE

    now = timezone.now()
    today = timezone.localdate(now)
    people = {
        u.username: u for u in User.objects.filter(username__in=PEOPLE).select_related("unit")
    }
    rng = random.Random(SEED)  # noqa: S311 (demo data, not secrets)
    notified_before = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    deals = _plan_deals(rng, customers, people, today)
    builder = _Builder(people, rng, today, now)
    _rates(builder, deals, today)
    for deal in deals:
        builder.plan(deal)
    steps = builder.story.tell()
    _keep_open_notifications(notified_before)
    contracts = Contract.objects.filter(customer_id__in=[c.pk for c in customers])
    return {
        "contracts": contracts.count(),
        "effective": contracts.filter(status=ContractStatus.EFFECTIVE).count(),
        "pending": contracts.filter(status=ContractStatus.PENDING).count(),
        "payments": Payment.objects.filter(contract__in=contracts).count(),
        "invoices": Invoice.objects.filter(contract__in=contracts).count(),
        "steps": steps,
    }


def _rates(builder: _Builder, deals: list[_Deal], today: date) -> None:
    """Finance's US dollar rates, one a month since the first dollar contract."""
    from tuoke.core import money

    firsts = [d.drafted for d in deals if d.currency == "USD"]
    if not firsts:
        return
    month = timezone.localtime(min(firsts)).date().replace(day=1) - timedelta(days=1)
    month = month.replace(day=1)
    number = 0
    while month <= today:
        rate = Decimal(USD_RATES[number % len(USD_RATES)])

        def act(m=month, r=rate) -> None:
            money.set_rate(
                currency="USD", valid_on=m, rate=r, by=builder.finance, note="中行中间价"
            )

        builder.story.add(_at(month, 9), act)
        month = _add_months(month, 1)
        number += 1


def _keep_open_notifications(since: int) -> None:
    """Once committed, drop the notifications of history; keep those asking someone to act
    now (approvers of the requests still pending, the submitter of a returned one, finance
    for the payments waiting), dated when they were sent."""
    from tuoke.org.approvals import request_url

    from .payments import _payment_list_url

    keep: dict[tuple[int, str], datetime] = {}
    pending = ApprovalRequest.objects.filter(
        target="contract", status__in=["pending", "returned"]
    ).prefetch_related("steps__approvers", "actions")
    for request in pending:
        url = request_url(request)
        last = max((a.at for a in request.actions.all()), default=request.submitted_at)
        if request.status == "returned":
            keep[(request.owner_id, url)] = last
            continue
        for step in request.steps.all():
            if step.position == request.current_step:
                for person in step.approvers.all():
                    keep[(person.pk, url)] = last
    payments_url = _payment_list_url()

    def tidy() -> None:
        for pk, recipient, url, kind in Notification.objects.filter(pk__gt=since).values_list(
            "pk", "recipient_id", "url", "kind"
        ):
            sent = keep.get((recipient, url))
            if sent is not None:
                Notification.objects.filter(pk=pk).update(created_at=sent)
            elif not (kind == "payment" and url == payments_url):
                Notification.objects.filter(pk=pk).delete()

    transaction.on_commit(tidy)
