"""The demo's sales (a step of ``tuoke demo``): two pipelines (新客户销售, the default, and 续约),
the lost reasons, a small catalogue of software and services, and about a year of
opportunities on the demo customers, owned by the customers' owners.

Each opportunity lived its history: it entered its pipeline's first stage and moved on,
stage by stage (now and then skipping one), staying about each stage's expected days (a few
stalled far beyond them), until it was won, lost (with a reason) or is still open in some
stage. Deals follow the customers' lifecycle: signed customers won theirs about when they
signed, churned ones won once and lost the renewal; a customer whose deal reached a stage that
marks intent is at least "intent" (moved by ``advance_lifecycle``, dated when it happened).

The configuration is found or made by name (the defaults a fresh install writes are reused);
the deals are bulk-loaded, dated in the past, without audit entries, from fixed seeds. Running
it again adds nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from tuoke.core.models import AuditEntry
from tuoke.customers import services as customer_services
from tuoke.customers.models import Contact, Customer, LifecycleChange, LifecycleStatus

from .models import (
    LostReason,
    Opportunity,
    OpportunityLine,
    Pipeline,
    Product,
    Stage,
    StageKind,
    StageVisit,
)

SEED = 20261126
OWNERS = ("rep_east1", "rep_east2", "rep_south1", "rep_south2", "manager_east", "manager_south")

NEW_BUSINESS = "新客户销售"
RENEWAL = "续约"
# name, kind, probability, expected days, required fields, marks intent
PIPELINES: dict[str, tuple[tuple[str, str, int, int | None, list[str], bool], ...]] = {
    NEW_BUSINESS: (
        ("初步接洽", "open", 10, 14, [], False),
        ("需求确认", "open", 30, 21, [], True),
        ("方案报价", "open", 50, 21, ["amount"], False),
        ("商务谈判", "open", 80, 14, ["amount", "expected_close_date"], False),
        ("赢单", "won", 100, None, [], False),
        ("输单", "lost", 0, None, [], False),
    ),
    RENEWAL: (
        ("续约沟通", "open", 30, 14, [], False),
        ("续约报价", "open", 60, 14, ["amount"], False),
        ("合同确认", "open", 90, 10, ["amount", "expected_close_date"], False),
        ("已续约", "won", 100, None, [], False),
        ("未续约", "lost", 0, None, [], False),
    ),
}
DESCRIPTIONS = {
    NEW_BUSINESS: "新客户从初次接洽到签约",
    RENEWAL: "老客户维保与平台年费的续约",
}
LOST_REASONS = ("价格过高", "选择了竞争对手", "无预算", "需求取消", "联系不上")
# code, name, unit, price (CNY), description
PRODUCTS: tuple[tuple[str, str, str, int, str], ...] = (
    ("MES-STD", "MES 生产管理系统（标准版）", "套", 380_000, "生产计划、工单、报工与质量追溯"),
    ("MES-MOD", "MES 扩展模块", "个", 60_000, "设备管理、能耗、仓储等可选模块"),
    ("IOT-PLAT", "设备远程运维平台", "年", 48_000, "设备联网监控与预测性维护，按年订阅"),
    ("IOT-GW", "数据采集网关", "台", 8_500, "PLC 与数控系统数据采集"),
    ("WMS", "仓储管理系统 WMS", "套", 260_000, "库位、波次拣货与 AGV 调度"),
    ("VIS-AI", "视觉检测软件授权", "套", 120_000, "AI 缺陷检测，按产线授权"),
    ("ERP-IMPL", "ERP 实施服务", "人天", 2_200, "需求调研、配置、数据迁移与上线支持"),
    ("DEV", "定制开发服务", "人天", 2_500, "接口对接与个性化功能开发"),
    ("TRAIN", "操作与运维培训", "场", 15_000, "现场培训，每场不超过 20 人"),
    ("MAINT", "年度维保服务", "年", 88_000, "7×24 响应、季度巡检与版本升级"),
)
# What each kind of deal is about: main products (one is drawn) and extras.
MAIN_PRODUCTS = ("MES-STD", "WMS", "VIS-AI", "IOT-PLAT")
EXTRAS = {
    "MES-STD": ("MES-MOD", "IOT-GW", "ERP-IMPL", "DEV", "TRAIN"),
    "WMS": ("DEV", "TRAIN", "IOT-GW"),
    "VIS-AI": ("DEV", "TRAIN", "IOT-GW"),
    "IOT-PLAT": ("IOT-GW", "TRAIN", "DEV"),
}
TITLES = {
    "MES-STD": "{name} MES 项目",
    "WMS": "{name}智能仓储项目",
    "VIS-AI": "{name}视觉检测项目",
    "IOT-PLAT": "{name}设备联网项目",
}
AMOUNT_RANGE = (50_000, 3_000_000)
CLOSE_NOTES = {
    "won": ("合同已签，首付款安排中。", "客户内部审批通过，已下单。", ""),
    "lost": ("", "客户最终选择了本地供应商。", "项目预算被砍，明年再看。", ""),
}
STALLED_SHARE = 0.08  # of finished stays: well beyond the expected days
STALLED_OPEN_SHARE = 0.2  # of open deals: sitting in their stage too long, no activity since
SKIP_SHARE = 0.15  # deals that skip a middle stage


@dataclass
class _Stay:
    stage: Stage
    entered: datetime
    left: datetime | None = None


@dataclass
class _Deal:
    customer: Customer
    pipeline: Pipeline
    status: str  # open, won, lost
    title: str
    lines: list[tuple[Product, int]]
    stays: list[_Stay] = field(default_factory=list)
    closed_at: datetime | None = None
    reason: LostReason | None = None
    note: str = ""
    expected_close: object = None
    last_activity: datetime | None = None
    contacts: list[int] = field(default_factory=list)

    @property
    def amount(self) -> Decimal:
        return sum((Decimal(p.price) * qty for p, qty in self.lines), Decimal("0"))


# --- The configuration ---------------------------------------------------------------------------


def build_config() -> dict[str, object]:
    """The two pipelines, the lost reasons and the products, found by name or made."""
    pipelines = {name: _pipeline(name) for name in PIPELINES}
    reasons = {}
    for order, name in enumerate(LOST_REASONS):
        reasons[name] = LostReason.objects.filter(name=name).first() or (
            LostReason.objects.create(name=name, sort_order=order * 10)
        )
    products = {}
    for code, name, unit, price, description in PRODUCTS:
        products[code] = Product.objects.filter(code=code).first() or Product.objects.create(
            code=code, name=name, unit=unit, price=Decimal(price), description=description
        )
    return {"pipelines": pipelines, "reasons": reasons, "products": products}


def _pipeline(name: str) -> Pipeline:
    found = Pipeline.objects.filter(name=name).first()
    if found is not None:
        return found
    is_default = name == NEW_BUSINESS and not Pipeline.objects.filter(is_default=True).exists()
    made = Pipeline.objects.create(
        name=name,
        description=DESCRIPTIONS[name],
        is_default=is_default,
        sort_order=list(PIPELINES).index(name) * 10,
    )
    for order, (stage, kind, probability, days, required, intent) in enumerate(PIPELINES[name]):
        Stage.objects.create(
            pipeline=made,
            name=stage,
            kind=kind,
            sort_order=order * 10,
            probability=probability,
            expected_days=days,
            required_fields=required,
            marks_intent=intent,
        )
    return made


# --- The deals ------------------------------------------------------------------------------------


def demo_customers() -> list[Customer]:
    """The demo owners' customers that have a past (not made today)."""
    since = timezone.now() - timedelta(days=1)
    return list(
        Customer.objects.filter(owner__username__in=OWNERS, created_at__lt=since)
        .select_related("owner")
        .order_by("pk")
    )


def build_sales() -> dict[str, int]:
    """The configuration (found or made), then the deals once: a second run adds nothing."""
    config = build_config()
    customers = demo_customers()
    ids = [c.pk for c in customers]
    if not customers or Opportunity.all_objects.filter(customer_id__in=ids).exists():
        return {}
    return _build(customers, config)


def _open_stages(pipeline: Pipeline) -> tuple[list[Stage], Stage, Stage]:
    stages = list(Stage.objects.filter(pipeline=pipeline, active=True).order_by("sort_order"))
    opens = [s for s in stages if s.kind == StageKind.OPEN]
    won = next(s for s in stages if s.kind == StageKind.WON)
    lost = next(s for s in stages if s.kind == StageKind.LOST)
    return opens, won, lost


def _stay_days(rng: random.Random, stage: Stage) -> float:
    """How long a finished stay lasted: about the expected days, a few far beyond them."""
    expected = stage.expected_days or 14
    if rng.random() < STALLED_SHARE:
        return expected * rng.uniform(1.6, 3.0)
    return expected * min(max(rng.lognormvariate(0, 0.35), 0.3), 1.6)


def _path(rng: random.Random, opens: list[Stage], last: int) -> list[Stage]:
    """The open stages up to ``last`` (an index), now and then skipping a middle one."""
    path = opens[: last + 1]
    if len(path) >= 3 and rng.random() < SKIP_SHARE:
        path.pop(rng.randrange(1, len(path) - 1))
    return path


def _lines(rng: random.Random, products: dict[str, Product], pipeline: str):
    """Lines from the catalogue adding up to about an amount between 50,000 and 3,000,000."""
    low, high = AMOUNT_RANGE
    if pipeline == RENEWAL:
        main = rng.choice(("MAINT", "IOT-PLAT"))
        lines = [(products[main], rng.choice((1, 1, 2, 3)))]
        if rng.random() < 0.4 or sum(p.price * q for p, q in lines) < low:
            lines.append((products["TRAIN"], rng.choice((1, 2))))
        return main, lines
    target = low * (high / low) ** rng.random()  # log-uniform
    main = rng.choice(MAIN_PRODUCTS)
    lines = [(products[main], 1 if products[main].price > 100_000 else rng.randint(1, 3))]
    for code in rng.sample(EXTRAS[main], rng.randint(1, len(EXTRAS[main]))):
        total = sum(p.price * q for p, q in lines)
        if total >= target:
            break
        price = products[code].price
        quantity = int((Decimal(target) - total) / price * Decimal(rng.uniform(0.3, 0.9)))
        if quantity >= 1:
            lines.append((products[code], min(quantity, 400)))
    while len(lines) > 1 and sum(p.price * q for p, q in lines) > high:
        product, quantity = lines[-1]
        if quantity > 1:
            lines[-1] = (product, quantity // 2)
        else:
            lines.pop()
    if sum(p.price * q for p, q in lines) < low:
        lines.append((products["TRAIN"], 1))
        lines.append((products["IOT-GW"], 4))
    return main, lines


def _fit(stays: list[_Stay], days: list[float], end: datetime, start_floor: datetime) -> None:
    """Date the stays backwards from ``end`` (the last one's end, or its entry for an open
    deal, given in ``days[-1]`` as time already spent), squeezed after ``start_floor``."""
    total = sum(days)
    room = max((end - start_floor).total_seconds() / 86400, 0.05)
    scale = min(1.0, room / total) if total > 0 else 1.0
    at = end
    for stay, length in zip(reversed(stays), reversed(days), strict=True):
        stay.left = at
        at = at - timedelta(days=length * scale)
        stay.entered = at


def _office_hours(at: datetime) -> datetime:
    local = timezone.localtime(at)
    if local.hour < 9:
        local = local.replace(hour=9 + local.minute % 3)
    elif local.hour >= 18:
        local = local.replace(hour=14 + local.minute % 4)
    return local


def _plan_deal(
    rng: random.Random,
    customer: Customer,
    *,
    pipeline: Pipeline,
    stages: tuple[list[Stage], Stage, Stage],
    status: str,
    reach: int,
    products: dict[str, Product],
    reasons: list[LostReason],
    window: tuple[datetime, datetime],
    now: datetime,
    contacts: list[int],
    closed_at: datetime | None = None,
) -> _Deal:
    """One deal that went as far as ``reach`` (an index of the open stages) and then is still
    open there, or was won or lost; lived within ``window``, closed at ``closed_at`` if given."""
    opens, won, lost = stages
    name = customer.short_name or customer.legal_name
    main, lines = _lines(rng, products, pipeline.name)
    if pipeline.name == RENEWAL:
        title = f"{name} {timezone.localdate(window[1]).year}年度续约"
    else:
        title = TITLES[main].format(name=name)
    deal = _Deal(customer, pipeline, status, title, lines, contacts=contacts)
    path = _path(rng, opens, reach)
    start, end = window
    days = [_stay_days(rng, stage) for stage in path]
    if status == "open":
        expected = path[-1].expected_days or 14
        stalled = rng.random() < STALLED_OPEN_SHARE
        days[-1] = expected * (rng.uniform(1.3, 3.0) if stalled else rng.uniform(0.05, 0.9))
        deal.stays = [_Stay(stage, now) for stage in path]
        _fit(deal.stays, days, now, start)
        deal.stays[-1].left = None
        entered = deal.stays[-1].entered
        # Its last touch: the customer's newest follow-up since (none when it stalled).
        touched = customer.last_follow_up_at
        deal.last_activity = touched if touched and touched > entered and not stalled else entered
        remaining = sum(s.expected_days or 14 for s in opens[opens.index(path[-1]) :])
        deal.expected_close = timezone.localdate(now) + timedelta(
            days=max(7, int(remaining * rng.uniform(0.6, 1.3)))
        )
    else:
        closed = closed_at or start + (end - start) * rng.uniform(0.5, 1.0)
        closed = min(_office_hours(closed), end)
        deal.stays = [_Stay(stage, closed) for stage in path]
        _fit(deal.stays, days, closed, start)
        last = won if status == "won" else lost
        # As win/lose record it: the end stage is entered and stays the current visit.
        deal.stays.append(_Stay(last, closed))
        deal.closed_at = deal.last_activity = closed
        deal.expected_close = timezone.localdate(closed) + timedelta(days=rng.randint(-10, 20))
        deal.note = rng.choice(CLOSE_NOTES[status])
        if status == "lost":
            deal.reason = rng.choices(reasons, (5, 4, 3, 2, 1))[0]
    return deal


def _deals_of(
    rng: random.Random,
    customer: Customer,
    changes: dict[str, datetime],
    config: dict,
    now: datetime,
    contacts: list[int],
) -> list[_Deal]:
    """What the customer's deals were, by how far its lifecycle went."""
    status = customer.lifecycle_status
    if status == LifecycleStatus.LEAD:
        return []
    new, renewal = config["stages"][NEW_BUSINESS], config["stages"][RENEWAL]
    common = {
        "products": config["products"],
        "reasons": config["reasons"],
        "now": now,
        "contacts": contacts,
    }
    pipelines = config["pipelines"]
    created = customer.created_at + timedelta(hours=2)
    deals: list[_Deal] = []

    def deal(kind, stages, state, reach, window, closed_at=None):
        deals.append(
            _plan_deal(
                rng,
                customer,
                pipeline=pipelines[kind],
                stages=stages,
                status=state,
                reach=reach,
                window=window,
                closed_at=closed_at,
                **common,
            )
        )

    last_open = len(new[0]) - 1
    if status == LifecycleStatus.POTENTIAL:
        draw = rng.random()
        if draw < 0.28:
            deal(NEW_BUSINESS, new, "open", 0, (created, now))
        elif draw < 0.38:
            deal(NEW_BUSINESS, new, "open", 1, (created, now))  # made the customer intent
        elif draw < 0.6:
            deal(NEW_BUSINESS, new, "lost", rng.choice((0, 0, 1)), (created, now))
    elif status == LifecycleStatus.INTENT:
        if rng.random() < 0.15:
            earlier = created + (now - created) * 0.5
            deal(NEW_BUSINESS, new, "lost", rng.randint(0, last_open), (created, earlier))
            created = earlier
        draw = rng.random()
        if draw < 0.5:
            deal(NEW_BUSINESS, new, "open", rng.randint(1, last_open), (created, now))
        elif draw < 0.88:
            deal(NEW_BUSINESS, new, "lost", rng.randint(1, last_open), (created, now))
        # else: the intent came from follow-ups; no deal yet
    elif rng.random() < 0.8:  # signed or churned: won about when the customer signed
        # (the others signed on a deal made before the demo's year)
        signed = changes.get(LifecycleStatus.SIGNED, created + (now - created) * 0.6)
        won_at = max(signed - timedelta(days=rng.uniform(0, 5)), created + timedelta(days=1))
        won_at = min(won_at, now - timedelta(hours=1))
        deal(NEW_BUSINESS, new, "won", last_open, (created, won_at), won_at)
        churned = changes.get(LifecycleStatus.CHURNED)
        if churned is not None:
            if rng.random() < 0.7:
                lost_at = max(
                    churned - timedelta(days=rng.uniform(1, 10)), won_at + (churned - won_at) / 2
                )
                deal(RENEWAL, renewal, "lost", rng.randint(0, 1), (won_at, lost_at), lost_at)
        elif rng.random() < 0.15:
            reach = rng.randint(0, len(renewal[0]) - 1)
            state = rng.choice(("open", "open", "won")) if now - won_at > timedelta(60) else "open"
            start = min(won_at + timedelta(days=7), now - timedelta(days=1))
            deal(RENEWAL, renewal, state, len(renewal[0]) - 1 if state == "won" else reach,
                 (start, now))  # fmt: skip
    return deals


@transaction.atomic
def _build(customers: list[Customer], config: dict) -> dict[str, int]:
    now = timezone.now()
    config = {
        **config,
        "stages": {name: _open_stages(p) for name, p in config["pipelines"].items()},
        "reasons": list(config["reasons"].values()),
    }
    changes: dict[int, dict[str, datetime]] = {}
    for customer_id, to, at in LifecycleChange.objects.filter(
        customer__in=customers,
        to_status__in=[LifecycleStatus.SIGNED, LifecycleStatus.CHURNED],
    ).values_list("customer_id", "to_status", "at"):
        changes.setdefault(customer_id, {})[to] = at
    contacts: dict[int, list[int]] = {}
    for customer_id, pk in Contact.objects.filter(customer__in=customers).values_list(
        "customer_id", "pk"
    ):
        contacts.setdefault(customer_id, []).append(pk)
    deals: list[_Deal] = []
    for customer in customers:
        rng = random.Random(f"{SEED}:{customer.legal_name or customer.pk}")  # noqa: S311
        chosen = contacts.get(customer.pk, [])[: rng.choice((1, 1, 2))]
        deals += _deals_of(rng, customer, changes.get(customer.pk, {}), config, now, chosen)
    opportunities = _load(deals)
    intent = _mark_intent(deals, _intent_orders())
    return {
        "opportunities": len(opportunities),
        "stage_visits": sum(len(d.stays) for d in deals),
        "customers_made_intent": intent,
    }


def _load(deals: list[_Deal]) -> list[Opportunity]:
    rows = []
    for deal in deals:
        current = deal.stays[-1]
        owner = deal.customer.owner_id
        rows.append(
            Opportunity(
                customer=deal.customer,
                title=deal.title[:200],
                amount=deal.amount,
                expected_close_date=deal.expected_close,
                pipeline=deal.pipeline,
                stage=current.stage,
                status=deal.status,
                stage_entered_at=current.entered,
                last_activity_at=deal.last_activity,
                closed_at=deal.closed_at,
                lost_reason=deal.reason,
                close_note=deal.note,
                owner_id=owner,
                created_by_id=owner,
                updated_by_id=owner,
                version=len(deal.stays),
            )
        )
    Opportunity.objects.bulk_create(rows, batch_size=500)
    # Made when it entered its first stage, changed at its last move (auto_now wrote now).
    for row, deal in zip(rows, deals, strict=True):
        row.created_at = deal.stays[0].entered
        row.updated_at = deal.stays[-1].entered
    Opportunity.objects.bulk_update(rows, ["created_at", "updated_at"], batch_size=500)
    StageVisit.objects.bulk_create(
        [
            StageVisit(
                opportunity=row,
                stage=stay.stage,
                stage_name=stay.stage.name,
                probability=stay.stage.probability,
                entered_at=stay.entered,
                left_at=stay.left,
                by_id=row.owner_id,
            )
            for row, deal in zip(rows, deals, strict=True)
            for stay in deal.stays
        ],
        batch_size=500,
    )
    OpportunityLine.objects.bulk_create(
        [
            OpportunityLine(
                opportunity=row,
                product=product,
                name=product.name,
                quantity=Decimal(quantity),
                unit_price=product.price,
                sort_order=n,
            )
            for row, deal in zip(rows, deals, strict=True)
            for n, (product, quantity) in enumerate(deal.lines)
        ],
        batch_size=500,
    )
    through = Opportunity.contacts.through
    through.objects.bulk_create(
        [
            through(opportunity_id=row.pk, contact_id=contact)
            for row, deal in zip(rows, deals, strict=True)
            for contact in deal.contacts
        ],
        batch_size=500,
    )
    return rows


def _mark_intent(deals: list[_Deal], intent_from: dict[int, int]) -> int:
    """Customers whose deal reached a stage that marks intent become "intent" (as the stage
    move would have made them), dated when the deal entered that stage."""
    first: dict[int, tuple[Customer, datetime]] = {}
    for deal in deals:
        for stay in deal.stays:
            marks = intent_from.get(stay.stage.pipeline_id)
            reached = stay.stage.kind == StageKind.OPEN and marks is not None
            if reached and stay.stage.sort_order >= marks:
                known = first.get(deal.customer.pk)
                if known is None or stay.entered < known[1]:
                    first[deal.customer.pk] = (deal.customer, stay.entered)
                break
    moved = 0
    customer_type = ContentType.objects.get_for_model(Customer)
    for customer, at in first.values():
        before = LifecycleChange.objects.filter(customer=customer).order_by("-pk").first()
        if not customer_services.advance_lifecycle(
            customer,
            to=LifecycleStatus.INTENT,
            cause=customer_services.Cause.OPPORTUNITY_STAGE,
            by=customer.owner,
        ):
            continue
        change = LifecycleChange.objects.filter(customer=customer).order_by("-pk").first()
        at = max(at, before.at + timedelta(minutes=5)) if before else at
        LifecycleChange.objects.filter(pk=change.pk).update(at=at)
        entry = (
            AuditEntry.objects.filter(content_type=customer_type, object_id=customer.pk)
            .order_by("-pk")
            .first()
        )
        if entry is not None:
            AuditEntry.objects.filter(pk=entry.pk).update(at=at)
        moved += 1
    return moved


def _intent_orders() -> dict[int, int]:
    """Per pipeline, the sort order of its first stage that marks intent: reaching it, or a
    later open stage (having skipped it), makes the customer intent."""
    orders: dict[int, int] = {}
    for pipeline_id, order in Stage.objects.filter(marks_intent=True).values_list(
        "pipeline_id", "sort_order"
    ):
        orders[pipeline_id] = min(order, orders.get(pipeline_id, order))
    return orders
