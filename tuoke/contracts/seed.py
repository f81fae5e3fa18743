"""Contracts of the benchmark data sets (a step of ``tuoke.core.seed``): 200,000 contracts and
500,000 payments on the large set (``Size.contracts``, ``Size.payments``), on the living signed
and churned customers, owned by the customers' owners. Bulk-loaded like the customers.

Each customer with contracts has one to a few, signed within the last three years; most of a
customer's later contracts renew the one before (``renews``, starting the day after it ends).
A contract is a draft or pending approval now and then (pending ones with their request in the
unit manager's queue); the others are effective, or, once ended, completed (fully paid),
terminated, or left effective by nobody closing them. Each has a payment plan of one to four
instalments over its term. Instalments due are mostly paid, some partly, some not at all (the
overdue); payments are matched to them and credited to the owner (the default rule: credit when
money is received), a few recent ones still await finance. The books hold together as the
services keep them: an instalment's ``paid_amount`` and a contract's ``received_amount`` are the
sums of the confirmed payments matched to them.

A few contracts are in US dollars or euros, with monthly exchange rates written for them.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils import timezone

from tuoke.core.models import ExchangeRate
from tuoke.customers.models import Customer, LifecycleStatus
from tuoke.org.models import ApprovalAction, ApprovalRequest, ApprovalRequestStep, User
from tuoke.sales.models import Opportunity

from .models import Contract, Instalment, Payment, PaymentAllocation, SalesCredit

if TYPE_CHECKING:
    from tuoke.core.seed import SeedContext

PAGE = 20_000
HISTORY_DAYS = 3 * 365
AMOUNTS = (30_000, 2_000_000)
TERMS = ((365, 0.8), (730, 0.12), (180, 0.08))  # days, share
CHAIN_SHARE = 0.75  # customers whose later contracts renew the earlier ones
DRAFT_SHARE, PENDING_SHARE = 0.03, 0.02
RENEWAL_DRAFT_SHARE = 0.3  # a renewal signed in the last weeks still being drafted
TERMINATED_SHARE = 0.04  # of the ended contracts
LEFT_OPEN_SHARE = 0.08  # ended contracts nobody completed: still effective
PAID_SHARE, PARTLY_SHARE = 0.8, 0.08  # of instalments due; the rest is overdue unpaid
PREPAID_SHARE = 0.05  # instalments not due yet but paid
SPLIT_SHARE = 0.2  # instalments paid in two payments
UNCONFIRMED_SHARE = 0.15  # of the payments received in the last two weeks
CURRENCIES = (("CNY", 0.95), ("USD", 0.04), ("EUR", 0.01))
RATE_RANGE = {"USD": (Decimal("7.05"), Decimal("7.35")), "EUR": (Decimal("7.60"), Decimal("8.00"))}
METHODS = (("bank_transfer", 0.8), ("acceptance_bill", 0.15), ("online", 0.05))
SUBJECTS = (
    "MES 系统采购合同",
    "智能仓储项目合同",
    "视觉检测软件许可合同",
    "设备联网平台服务合同",
    "年度维保服务合同",
    "ERP 实施服务合同",
    "产线改造项目合同",
    "年度采购框架协议",
)
FLOW_NAME = "大额合同审批"
STEP_NAME = "部门经理审批"

CONTRACT_FIELDS = [
    "id",
    "number",
    "customer",
    "opportunity",
    "title",
    "amount",
    "currency",
    "signed_on",
    "starts_on",
    "ends_on",
    "status",
    "effective_at",
    "closed_at",
    "termination_reason",
    "renews",
    "received_amount",
    "owner",
    "created_by",
    "updated_by",
    "created_at",
    "updated_at",
    "deleted_at",
    "deleted_by",
]
INSTALMENT_FIELDS = [
    "id",
    "contract",
    "position",
    "due_on",
    "amount",
    "paid_amount",
    "created_by",
    "updated_by",
    "created_at",
    "updated_at",
]
PAYMENT_FIELDS = [
    "id",
    "contract",
    "customer",
    "amount",
    "currency",
    "received_on",
    "method",
    "reference",
    "status",
    "confirmed_by",
    "confirmed_at",
    "created_by",
    "updated_by",
    "created_at",
    "updated_at",
]
ALLOCATION_FIELDS = ["id", "payment", "instalment", "amount"]
CREDIT_FIELDS = [
    "id",
    "contract",
    "payment",
    "owner",
    "unit",
    "cause",
    "amount",
    "currency",
    "reporting_amount",
    "credited_on",
    "created_at",
]
REQUEST_FIELDS = [
    "id",
    "owner",
    "flow_name",
    "target",
    "object_id",
    "title",
    "amount",
    "currency",
    "status",
    "current_step",
    "submitted_at",
    "created_by",
    "updated_by",
    "created_at",
    "updated_at",
]
STEP_FIELDS = ["id", "request", "position", "name", "approver_kind", "mode", "status"]
APPROVER_FIELDS = ["id", "approvalrequeststep", "user"]
ACTION_FIELDS = ["id", "request", "step", "kind", "actor", "at"]


def _weighted(rng: random.Random, choices) -> object:
    draw = rng.random()
    for value, share in choices:
        if draw < share:
            return value
        draw -= share
    return choices[0][0]


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


class _Rates:
    """Monthly rates of the foreign currencies over the seeded years (written when missing),
    and the conversion of an amount with the rate of the month it belongs to."""

    def __init__(self, rng: random.Random, first: date, last: date) -> None:
        self.by_month: dict[tuple[str, int, int], Decimal] = {}
        existing = set(
            ExchangeRate.objects.filter(currency__in=RATE_RANGE).values_list("currency", "valid_on")
        )
        made = []
        for currency, (low, high) in RATE_RANGE.items():
            month = date(first.year, first.month, 1)
            rate = (low + high) / 2
            while month <= last:
                step = Decimal(rng.randint(-40, 40)) / 1000
                rate = min(max(rate + step, low), high).quantize(Decimal("0.0001"))
                self.by_month[(currency, month.year, month.month)] = rate
                if (currency, month) not in existing:
                    made.append(
                        ExchangeRate(currency=currency, valid_on=month, rate=rate, note="bench")
                    )
                month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        ExchangeRate.objects.bulk_create(made, batch_size=500)

    def reporting_cents(self, cents: int, currency: str, day: date) -> int:
        if currency == "CNY":
            return cents
        rate = self.by_month[(currency, day.year, day.month)]
        return int((Decimal(cents) * rate).to_integral_value())


class _Contract:
    """One contract being made, with its plan and payments, as integers of cents."""

    __slots__ = (
        "cents", "closed_on", "created", "currency", "customer", "deleted", "ends", "id",
        "instalments", "number", "opportunity", "owner", "pieces", "reason", "renews", "signed",
        "starts", "status", "title",
    )  # fmt: skip

    def __init__(self, **facts) -> None:
        self.opportunity = self.renews = self.closed_on = None
        self.deleted = False
        self.reason = ""
        self.instalments: list[list] = []  # [id, due, cents, paid cents]
        self.pieces: list[list] = []  # [received on, [(instalment index, cents)], confirmed]
        for key, value in facts.items():
            setattr(self, key, value)


def seed_contracts(context: SeedContext) -> dict[str, int]:
    """Exactly ``size.contracts`` contracts and ``size.payments`` payments (with their
    instalments, matches, credit and pending approvals) over the living signed and churned
    customers, page by page of customers."""
    from tuoke.core.seed import load

    total, payments_total = context.size.contracts, context.size.payments
    if total <= 0:
        return {}
    rng, now = context.rng, context.now
    today = timezone.localdate(now)
    floor = today - timedelta(days=HISTORY_DAYS)
    customers = Customer.objects.filter(
        lifecycle_status__in=[LifecycleStatus.SIGNED, LifecycleStatus.CHURNED]
    )
    count = customers.count()
    if count == 0:
        return {}
    rates = _Rates(rng, floor - timedelta(days=31), today)
    units = dict(User.objects.values_list("pk", "unit_id"))
    managers = _approvers()
    spec = {
        Contract: CONTRACT_FIELDS,
        Instalment: INSTALMENT_FIELDS,
        Payment: PAYMENT_FIELDS,
        PaymentAllocation: ALLOCATION_FIELDS,
        SalesCredit: CREDIT_FIELDS,
        ApprovalRequest: REQUEST_FIELDS,
        ApprovalRequestStep: STEP_FIELDS,
        ApprovalRequestStep.approvers.through: APPROVER_FIELDS,
        ApprovalAction: ACTION_FIELDS,
    }
    with load(spec) as loaders:
        writer = _Writer(loaders, rates, units, managers, context.people["finance1"].pk, now)
        done = index = last_pk = 0
        state = {"payments_done": 0, "contracts_done": 0}
        while True:
            page = list(
                customers.filter(pk__gt=last_pk)
                .order_by("pk")
                .values_list("pk", "owner_id", "created_at", "short_name", "lifecycle_status")[
                    :PAGE
                ]
            )
            if not page:
                break
            last_pk = page[-1][0]
            won = dict(
                Opportunity.objects.filter(
                    customer_id__in=[row[0] for row in page], status="won"
                ).values_list("customer_id", "pk")
            )
            made: list[_Contract] = []
            for pk, owner, created, short_name, lifecycle in page:
                # Exactly ``total`` over the customers, unevenly: none for many, a few for some.
                due = (index + 1) * total // count - done
                wanted = max(0, due + rng.choice((-1, -1, 0, 1, 2)))
                if index == count - 1:
                    wanted = max(0, total - done)
                index += 1
                done += wanted
                if wanted:
                    made += _contracts_of(
                        rng,
                        writer,
                        customer=pk,
                        owner=owner,
                        name=short_name,
                        churned=lifecycle == LifecycleStatus.CHURNED,
                        floor=max(timezone.localdate(created), floor),
                        today=today,
                        wanted=wanted,
                        opportunity=won.get(pk),
                    )
            for contract in made:
                state["contracts_done"] += 1
                # Exactly ``payments_total`` over the contracts, as their plans allow.
                share = state["contracts_done"] * payments_total // total
                _fit_payments(rng, contract, share - state["payments_done"], today)
                state["payments_done"] += len(contract.pieces)
            writer.write(made, rng, today)
            context.log(
                f"contracts {writer.contracts.written:>9,}  payments {writer.payments.written:>9,}"
            )
        writer.top_up(rng, payments_total - writer.payments.written, today)
        written = {model._meta.db_table: loader.written for model, loader in loaders.items()}
    context.log("contracts: indexes rebuilt")
    return written


def _approvers() -> dict[int, int]:
    """Unit → who approves its pending contracts (the unit's manager; the sales director
    for the managers' own)."""
    from tuoke.org.models import OrgUnit

    return dict(OrgUnit.objects.filter(manager__isnull=False).values_list("pk", "manager_id"))


def _contracts_of(
    rng: random.Random,
    writer: _Writer,
    *,
    customer: int,
    owner: int,
    name: str,
    churned: bool,
    floor: date,
    today: date,
    wanted: int,
    opportunity: int | None,
) -> list[_Contract]:
    chain = rng.random() < CHAIN_SHARE
    low, high = AMOUNTS
    made: list[_Contract] = []
    span = max((today - floor).days, 0)
    for n in range(wanted):
        term = _weighted(rng, TERMS)
        previous = made[-1] if made else None
        renews = None
        renewable = previous is not None and previous.status in ("effective", "completed")
        if chain and renewable and previous.ends < today + timedelta(days=45):
            starts = previous.ends + timedelta(days=1)
            signed = min(starts - timedelta(days=rng.randint(0, 30)), today)
            renews = previous
        elif chain and previous is None and wanted > 1:
            # The first of a chain: far enough back for its renewals to follow it.
            back = (wanted - 1) * 365 + rng.randint(0, 300)
            signed = max(floor, today - timedelta(days=back))
            starts = signed + timedelta(days=rng.randint(0, 15))
        else:
            # One of its own: signed any day since the customer's start.
            signed = floor + timedelta(days=int(span * rng.random() ** 0.7))
            starts = signed + timedelta(days=rng.randint(0, 15))
        ends = starts + timedelta(days=term - 1)
        subject = rng.choice(SUBJECTS)
        title = f"{name}{subject}" + ("（续约）" if renews is not None else "")
        currency = _weighted(rng, CURRENCIES)
        amount = int(low * (high / low) ** rng.random() / 100) * 100
        if currency != "CNY":
            amount = max(amount // 7 // 100 * 100, 5_000)
        contract = _Contract(
            id=writer.next_contract(),
            customer=customer,
            owner=owner,
            title=title[:200],
            cents=amount * 100,
            currency=currency,
            signed=signed,
            starts=starts,
            ends=ends,
            renews=renews.id if renews is not None else None,
        )
        contract.number = f"HT{signed:%Y%m}-B{contract.id:07d}"
        contract.opportunity = opportunity if n == 0 else None
        contract.created = signed - timedelta(days=rng.randint(1, 10))
        contract.status = _status(rng, contract, renewal=renews is not None, today=today)
        if churned and contract.status == "effective" and ends >= today:
            contract.status = "terminated"
            contract.reason = "客户停止合作"
        if contract.status == "terminated":
            end = min(ends, today)
            contract.closed_on = starts + timedelta(days=int((end - starts).days * rng.random()))
            contract.reason = contract.reason or rng.choice(("客户业务调整", "项目取消", "违约"))
        elif contract.status == "completed":
            contract.closed_on = min(ends + timedelta(days=rng.randint(0, 20)), today)
        if contract.status == "draft" and rng.random() < 0.1:
            contract.deleted = True
        _plan(rng, contract, writer, today)
        made.append(contract)
    return made


def _status(rng: random.Random, contract: _Contract, *, renewal: bool, today: date) -> str:
    draw = rng.random()
    if renewal and contract.signed > today - timedelta(days=20) and draw < RENEWAL_DRAFT_SHARE:
        return "draft"
    if draw < DRAFT_SHARE:
        return "draft"
    if draw < DRAFT_SHARE + PENDING_SHARE:
        return "pending"
    if contract.ends >= today:
        return "effective"
    draw = rng.random()
    if draw < TERMINATED_SHARE:
        return "terminated"
    if draw < TERMINATED_SHARE + LEFT_OPEN_SHARE:
        return "effective"
    return "completed"


def _plan(rng: random.Random, contract: _Contract, writer: _Writer, today: date) -> None:
    """The instalments over the term and the money received against each, as payment
    pieces (received on, matches) before they are fitted to the payment count."""
    parts = rng.choice((1, 2, 2, 3, 3, 4))
    term = (contract.ends - contract.starts).days + 1
    each = contract.cents // parts // 100 * 100
    status = contract.status
    for position in range(parts):
        due = contract.starts + timedelta(days=term * position // parts)
        cents = each if position < parts - 1 else contract.cents - each * (parts - 1)
        contract.instalments.append([writer.next_instalment(), due, cents, 0])
    if status in ("draft", "pending"):
        return
    for index, (_pk, due, cents, _paid) in enumerate(contract.instalments):
        if status == "completed":
            paid = cents
        elif status == "terminated":
            paid = cents if due < contract.closed_on else 0
        elif due < today:
            draw = rng.random()
            if draw < PAID_SHARE:
                paid = cents
            elif draw < PAID_SHARE + PARTLY_SHARE:
                paid = cents * rng.randint(3, 9) // 10
            else:
                paid = 0
        else:
            paid = cents if rng.random() < PREPAID_SHARE else 0
        if paid <= 0:
            continue
        received = due + timedelta(days=rng.randint(-5, 30))
        received = max(min(received, today, contract.closed_on or today), contract.signed)
        if rng.random() < SPLIT_SHARE and paid >= 200:
            first = paid * rng.randint(3, 7) // 10
            later = min(received + timedelta(days=rng.randint(1, 20)), today)
            contract.pieces.append([received, [(index, first)], True])
            contract.pieces.append([later, [(index, paid - first)], True])
        else:
            contract.pieces.append([received, [(index, paid)], True])


def _fit_payments(rng: random.Random, contract: _Contract, wanted: int, today: date) -> None:
    """Make the contract's money arrive in ``wanted`` payments (at least one when any came):
    the largest single payments split in two, the latest ones merged; then a few recent ones
    left awaiting finance."""
    pieces = contract.pieces
    if not pieces:
        return
    if wanted <= 0:
        # Ahead of the count: this one's money has not come (an ended one stays open).
        pieces.clear()
        if contract.status == "completed":
            contract.status, contract.closed_on = "effective", None
        return
    while len(pieces) < wanted:
        single = [p for p in pieces if len(p[1]) == 1 and p[1][0][1] >= 200]
        if not single:
            break
        piece = max(single, key=lambda p: p[1][0][1])
        index, cents = piece[1][0]
        first = cents // 2
        piece[1] = [(index, first)]
        later = min(piece[0] + timedelta(days=rng.randint(0, 10)), today)
        pieces.append([later, [(index, cents - first)], True])
    pieces.sort(key=lambda p: p[0])
    while len(pieces) > wanted:
        last = pieces.pop()
        into = pieces[-1]
        into[0] = last[0]
        into[1] = into[1] + last[1]
    recent = today - timedelta(days=14)
    for piece in pieces:
        if piece[0] >= recent and rng.random() < UNCONFIRMED_SHARE:
            piece[2] = False
    for piece in pieces:
        if piece[2]:
            for index, cents in piece[1]:
                contract.instalments[index][3] += cents


class _Writer:
    """Ids handed out ahead and rows written per page."""

    def __init__(self, loaders, rates: _Rates, units, approvers, finance: int, now) -> None:
        self.contracts = loaders[Contract]
        self.instalments = loaders[Instalment]
        self.payments = loaders[Payment]
        self.allocations = loaders[PaymentAllocation]
        self.credits = loaders[SalesCredit]
        self.requests = loaders[ApprovalRequest]
        self.steps = loaders[ApprovalRequestStep]
        self.approvers = loaders[ApprovalRequestStep.approvers.through]
        self.actions = loaders[ApprovalAction]
        self.ids = {
            name: loader.next_id()
            for name, loader in (
                ("contract", self.contracts),
                ("instalment", self.instalments),
                ("payment", self.payments),
                ("allocation", self.allocations),
                ("credit", self.credits),
                ("request", self.requests),
                ("step", self.steps),
                ("approver", self.approvers),
                ("action", self.actions),
            )
        }
        self.rates, self.units, self.unit_approvers = rates, units, approvers
        self.finance, self.now = finance, now
        self.director = User.objects.filter(username="director").values_list("pk", flat=True)
        self.director = self.director[0] if self.director else finance
        # Effective contracts with money still to come, for the payments left over at the end.
        self.open_room: list[tuple[int, int, str, int, int]] = []

    def _next(self, name: str) -> int:
        value = self.ids[name]
        self.ids[name] = value + 1
        return value

    def next_contract(self) -> int:
        return self._next("contract")

    def next_instalment(self) -> int:
        return self._next("instalment")

    @staticmethod
    def _at(day: date, hour: int = 10, minute: int = 0) -> datetime:
        return timezone.make_aware(datetime.combine(day, time(hour, minute)))

    def write(self, made: list[_Contract], rng: random.Random, today: date) -> None:
        contracts, instalments, payments, allocations, credits = [], [], [], [], []
        requests, steps, approvers, actions = [], [], [], []
        for c in made:
            received = sum(paid for _pk, _due, _cents, paid in c.instalments)
            signed = c.status not in ("draft", "pending")
            created = self._at(c.created, 9 + c.id % 8, c.id % 60)
            effective_at = self._at(c.signed, 11, c.id % 60) if signed else None
            closed_at = self._at(c.closed_on, 16, c.id % 60) if c.closed_on else None
            updated = max(d for d in (created, effective_at, closed_at) if d is not None)
            deleted_at = updated + timedelta(days=1) if c.deleted else None
            contracts.append(
                (
                    c.id,
                    c.number,
                    c.customer,
                    c.opportunity,
                    c.title,
                    _money(c.cents),
                    c.currency,
                    c.signed if signed else None,
                    c.starts,
                    c.ends,
                    c.status,
                    effective_at,
                    closed_at,
                    c.reason,
                    c.renews,
                    _money(received),
                    c.owner,
                    c.owner,
                    c.owner,
                    created,
                    updated,
                    deleted_at,
                    c.owner if c.deleted else None,
                )
            )
            for position, (pk, due, cents, paid) in enumerate(c.instalments, start=1):
                instalments.append(
                    (pk, c.id, position, due, _money(cents), _money(paid), c.owner, c.owner,
                     created, created)
                )  # fmt: skip
            unit = self.units.get(c.owner)
            room = c.cents
            for day, matches, confirmed in c.pieces:
                pk = self._next("payment")
                cents = sum(share for _index, share in matches)
                room -= cents
                at = self._at(day, 14, pk % 60)
                recorder = self.finance if confirmed else c.owner
                payments.append(
                    (
                        pk,
                        c.id,
                        c.customer,
                        _money(cents),
                        c.currency,
                        day,
                        _weighted(rng, METHODS),
                        f"BANK{pk:010d}",
                        "confirmed" if confirmed else "unconfirmed",
                        self.finance if confirmed else None,
                        at + timedelta(hours=2) if confirmed else None,
                        recorder,
                        recorder,
                        at,
                        at,
                    )
                )
                if not confirmed:
                    continue
                for index, share in matches:
                    allocations.append(
                        (self._next("allocation"), pk, c.instalments[index][0], _money(share))
                    )
                credits.append(
                    (
                        self._next("credit"),
                        c.id,
                        pk,
                        c.owner,
                        unit,
                        "payment",
                        _money(cents),
                        c.currency,
                        _money(self.rates.reporting_cents(cents, c.currency, day)),
                        day,
                        at + timedelta(hours=2),
                    )
                )
            if c.status == "effective" and room >= 10_000 and not c.deleted:
                self.open_room.append((c.id, c.customer, c.currency, c.owner, room))
                del self.open_room[:-1000]
            if c.status == "pending":
                self._pending(c, created, requests, steps, approvers, actions)
        self.contracts.write(contracts)
        self.instalments.write(instalments)
        self.payments.write(payments)
        self.allocations.write(allocations)
        self.credits.write(credits)
        self.requests.write(requests)
        self.steps.write(steps)
        self.approvers.write(approvers)
        self.actions.write(actions)

    def _pending(self, c: _Contract, created, requests, steps, approvers, actions) -> None:
        """The contract's request waiting at its first step, the unit manager's."""
        request, step = self._next("request"), self._next("step")
        submitted = created + timedelta(hours=3)
        approver = self.unit_approvers.get(self.units.get(c.owner))
        if approver is None or approver == c.owner:
            approver = self.director
        requests.append(
            (request, c.owner, FLOW_NAME, "contract", c.id, f"{c.number} {c.title}"[:200],
             _money(c.cents), c.currency, "pending", 1, submitted, c.owner, c.owner, submitted,
             submitted)
        )  # fmt: skip
        steps.append((step, request, 1, STEP_NAME, "unit_manager", "any", "pending"))
        approvers.append((self._next("approver"), step, approver))
        actions.append((self._next("action"), request, None, "submit", c.owner, submitted))

    def top_up(self, rng: random.Random, missing: int, today: date) -> None:
        """Payments the plans could not take (the last pages' share): recent ones awaiting
        finance on effective contracts with money still to come, never above their amount."""
        rows = []
        room = [list(entry) for entry in self.open_room]
        turn = 0
        while len(rows) < missing and room:
            entry = room[turn % len(room)]
            turn += 1
            contract, customer, currency, owner, left = entry
            cents = max(left // 4 // 100 * 100, 100)
            if cents > left:
                room.remove(entry)
                continue
            entry[4] = left - cents
            pk = self._next("payment")
            day = today - timedelta(days=rng.randint(0, 10))
            at = self._at(day, 15, pk % 60)
            rows.append(
                (pk, contract, customer, _money(cents), currency, day, "bank_transfer",
                 f"BANK{pk:010d}", "unconfirmed", None, None, owner, owner, at, at)
            )  # fmt: skip
        self.payments.write(rows)
