"""The demo company's lead channels with six months of costs, a round-robin rule and 500 leads
spread over the reps and statuses (idempotent: running it again adds nothing)."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tuoke.core.models import AuditEntry
from tuoke.customers import names
from tuoke.org.models import User

from . import queries, services
from .models import AssignmentRule, Channel, ChannelCost, ChannelKind, CleaningKind, Lead

SEED = 20261123
LEAD_COUNT = 500
# Mobiles far from those other demo and benchmark data draw (names.mobile numbers them).
MOBILE_OFFSET = 1_500_000_000

# name → (kind, monthly cost in CNY, or None for one-off costs, note)
CHANNELS: dict[str, tuple[str, int | None, str]] = {
    "官网表单": (ChannelKind.WEBSITE, 8_000, "官网“获取报价”与“预约演示”表单"),
    "百度推广": (ChannelKind.OTHER, 25_000, "搜索关键词推广，按月结算"),
    "2026 上海工博会": (ChannelKind.EVENT, None, "中国国际工业博览会，展位 8.1H-B021"),
    "企业名录采集": (ChannelKind.CRAWLER, 3_000, "公开企业名录，按行业与地区采集"),
    "华南代理商": (ChannelKind.PARTNER, 12_000, "代理商推荐，按月支付渠道服务费"),
    "老客户转介绍": (ChannelKind.REFERRAL, 2_000, "转介绍礼品与奖励"),
}
# How often each channel brings a lead (weights).
CHANNEL_WEIGHTS = {
    "官网表单": 30,
    "百度推广": 25,
    "2026 上海工博会": 12,
    "企业名录采集": 18,
    "华南代理商": 9,
    "老客户转介绍": 6,
}
EVENT_COST = Decimal("180000")
EVENT_MONTHS_BACK = 2

REPS = ("rep_east1", "rep_east2", "rep_south1", "rep_south2")

PRODUCTS = (
    "五轴加工中心",
    "数控车床",
    "工业机器人",
    "AGV 搬运小车",
    "MES 生产管理系统",
    "视觉检测设备",
    "激光切割机",
    "注塑机",
    "空压机节能改造",
    "仓储货架系统",
    "ERP 实施服务",
    "设备远程运维平台",
)
NEEDS = (
    "咨询{product}，计划采购 {count} 台，预算约 {budget} 万元，{when}前落地。",
    "想了解{product}的报价和交期，{when}前要确定供应商。",
    "现有设备老化，考虑更换{product}，需要上门评估。",
    "在展会看过{product}演示，希望安排技术交流。",
    "新厂房{when}投产，需要整体方案：{product}及配套。",
    "对比了三家供应商的{product}，请尽快发方案和报价。",
)
WHEN = ("本月", "下月", "本季度", "年底", "明年一季度")
CLEANING = {
    CleaningKind.INVALID: ("空号，多次拨打无人接听", "留的手机号是错的", "公司已注销"),
    CleaningKind.DUPLICATE: ("与已有线索是同一家公司", "客户已在跟进中"),
    CleaningKind.JUNK: ("推销广告", "同行打探价格", "求职简历", "测试提交"),
}


def _month_start(months_back: int):
    return queries.month_start(timezone.localdate(), months_back)


def _build_channels(marketing: User) -> dict[str, Channel]:
    channels = {}
    for name, (kind, _monthly, note) in CHANNELS.items():
        channel = Channel.objects.filter(name=name).first()
        channels[name] = channel or services.create_channel(
            by=marketing, name=name, kind=kind, note=note
        )
    for name, (_kind, monthly, _note) in CHANNELS.items():
        channel = channels[name]
        for back in range(6):
            start = _month_start(back)
            end = _month_start(back - 1) - timedelta(days=1)
            if monthly is None:
                if back != EVENT_MONTHS_BACK:
                    continue
                amount, note = EVENT_COST, "展位、搭建与差旅"
            else:
                amount, note = Decimal(monthly), f"{start:%Y 年 %m 月}"
            if ChannelCost.objects.filter(channel=channel, period_start=start).exists():
                continue
            services.add_channel_cost(
                channel, by=marketing, period_start=start, period_end=end, amount=amount, note=note
            )
    return channels


def _build_rule(people: dict[str, User], channels: dict[str, Channel]) -> None:
    if AssignmentRule.all_objects.filter(name="官网线索轮转").exists():
        return
    services.create_rule(
        by=people["marketing1"],
        name="官网线索轮转",
        channel=channels["官网表单"],
        members=[people[username] for username in REPS],
    )


def _backdate(lead: Lead, at: datetime) -> None:
    """Demo leads arrived over half a year, not all today."""
    Lead.all_objects.filter(pk=lead.pk).update(created_at=at, updated_at=at)
    AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Lead), object_id=lead.pk
    ).update(at=at)


def _needs(rng: random.Random) -> str:
    return rng.choice(NEEDS).format(
        product=rng.choice(PRODUCTS),
        count=rng.choice((2, 3, 5, 8, 10, 20)),
        budget=rng.choice((30, 50, 80, 120, 200, 350)),
        when=rng.choice(WHEN),
    )


@transaction.atomic
def build_leads() -> int:
    """Channels with costs, a rule and the demo leads; returns how many leads were added."""
    people = {u.username: u for u in User.objects.filter(username__in=[*REPS, "marketing1"])}
    marketing = people["marketing1"]
    channels = _build_channels(marketing)
    _build_rule(people, channels)
    rng = random.Random(SEED)  # noqa: S311 (made-up demo data, not secrets)
    known = set(Lead.all_objects.values_list("company_name", "short_name"))
    now = timezone.now()
    added = 0
    previous_mobiles: list[str] = []
    for number in range(LEAD_COUNT):
        company = names.company(rng)
        legal = company.legal_name if rng.random() < 0.7 else ""
        mobile = names.mobile(MOBILE_OFFSET + number)
        if previous_mobiles and rng.random() < 0.03:
            mobile = rng.choice(previous_mobiles)  # the same person asking twice
        previous_mobiles.append(mobile)
        facts = {
            "company_name": legal,
            "short_name": company.short_name,
            "industry": company.industry,
            "province": company.province,
            "city": company.city,
            "contact_name": names.person_name(rng),
            "title": rng.choice(names.TITLES),
            "mobile": mobile,
            "email": f"sales{number}@{names.domain(company)}" if rng.random() < 0.4 else "",
            "needs": _needs(rng),
        }
        channel = channels[rng.choices(list(CHANNEL_WEIGHTS), list(CHANNEL_WEIGHTS.values()))[0]]
        owner_draw = rng.random()
        owner = marketing if owner_draw < 0.06 else people[REPS[int(owner_draw * 100) % 4]]
        status_draw = rng.random()
        days_ago = rng.randint(0, 179)
        at = datetime.combine(
            timezone.localdate() - timedelta(days=days_ago),
            time(rng.randint(8, 20), rng.randint(0, 59)),
            tzinfo=timezone.get_current_timezone(),
        )
        # Every draw is made before the skip, so a second run walks the same sequence.
        kind = rng.choice(list(CLEANING))
        reason = rng.choice(CLEANING[kind])
        converted = min(at + timedelta(days=rng.randint(1, 20)), now)
        if (legal, company.short_name) in known:
            continue
        known.add((legal, company.short_name))
        lead = services.create_lead(by=marketing, owner=owner, channel=channel, **facts)
        _backdate(lead, min(at, now))
        added += 1
        if owner == marketing:
            continue
        if status_draw < 0.12:
            services.clean_lead(lead, kind=kind, reason=reason, by=owner)
        elif status_draw < 0.25:
            try:
                services.convert_lead(lead, by=owner, allow_similar=True)
            except ValidationError:
                continue  # the same company is a customer already: it stays a lead
            Lead.all_objects.filter(pk=lead.pk).update(converted_at=converted)
        elif status_draw < 0.5:
            services.update_lead(lead, by=owner, status="working")
    return added
