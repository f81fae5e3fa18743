"""The demo company's customers: about 300 companies with 600 contacts, tags and a year of
lifecycle history, spread over the sales reps and their managers, with a dozen near-duplicates
on purpose (a homophone in the trade name, as reps really type them) so the duplicate check
has something to show. Idempotent: running it again adds nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tuoke.core.models import AuditEntry
from tuoke.org.models import User

from . import names, services
from .models import Customer, LifecycleChange, LifecycleStatus, Nature, Size

SEED = 20261124
CUSTOMER_COUNT = 290
SIMILAR_COUNT = 12
# Numbers for names.mobile / landline / credit_code that the leads demo and the benchmark
# data never draw (the leads demo starts at 1,500,000,000, the benchmark at 1).
NUMBER_OFFSET = 1_600_005_000

EAST = ("上海", "江苏", "浙江", "安徽", "山东")
SOUTH = ("广东", "福建", "湖南")
# username → (how many customers, relative; where his customers are)
OWNERS: dict[str, tuple[int, tuple[str, ...]]] = {
    "rep_east1": (30, EAST),
    "rep_east2": (26, EAST),
    "rep_south1": (30, SOUTH),
    "rep_south2": (24, SOUTH),
    "manager_east": (6, EAST),
    "manager_south": (6, SOUTH),
}
MANAGER_OF = {"east": "manager_east", "south": "manager_south"}

TAGS = ("重点客户", "展会", "老客户", "转介绍", "招投标", "战略合作", "价格敏感", "海外业务")
# Final status → share of customers.
STATUSES = (
    (LifecycleStatus.LEAD, 0.06),
    (LifecycleStatus.POTENTIAL, 0.36),
    (LifecycleStatus.INTENT, 0.28),
    (LifecycleStatus.SIGNED, 0.24),
    (LifecycleStatus.CHURNED, 0.06),
)
CHURN_REASONS = (
    "客户已停产，设备闲置",
    "被竞争对手低价替换，年内无采购计划",
    "公司被并购，采购改由集团统一负责",
)

# Characters and a homophone (same pinyin, other character) people type by mistake.
HOMOPHONES = dict(
    pair.split(":")
    for pair in names._words(
        "腾:藤 华:桦 信:鑫 恒:衡 通:同 宏:鸿 鑫:欣 泰:太 盛:晟 源:元 瑞:睿 嘉:佳 德:得 兴:星 "
        "隆:龙 金:锦 新:欣 远:源 联:连 汇:惠 明:铭 晨:辰 星:兴 辉:晖 凯:铠 豪:浩 宇:禹 峰:丰 "
        "越:悦 启:琦 融:荣 佳:嘉 益:亿 祥:翔 荣:融 宝:保 丰:峰 阳:扬 光:广 锦:金 云:芸 龙:隆 "
        "飞:菲 翔:祥 诚:成 立:力 鸿:宏 亿:益 聚:巨 智:志 慧:惠 睿:瑞 维:伟 力:立 迅:讯 捷:杰 "
        "顺:舜 利:力 铭:明 弘:宏 江:疆 林:霖 航:杭 耀:曜 晟:盛 浩:豪 润:闰 欣:新 禾:和 骏:俊 "
        "驰:池 锐:瑞 灿:璨 普:浦"
    )
)


@dataclass
class _Planned:
    company: names.Company
    owner: str
    status: str
    days_ago: int
    number: int
    contacts: list[dict] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    nature: str = ""
    size: str = ""
    credit_code: str = ""
    tier: str = ""
    followed_days_ago: int | None = None
    similar: bool = False


def _status(draw: float) -> str:
    for status, share in STATUSES:
        if draw < share:
            return status
        draw -= share
    return LifecycleStatus.POTENTIAL


def _contacts(rng: random.Random, company: names.Company, number: int, used: set[str]):
    made = []
    for n in range(rng.choice((1, 1, 2, 2, 2, 3, 3))):
        person = names.person_name(rng)
        full, _initials = names.part_pinyin(person)
        email = f"{full}@{names.domain(company)}"
        while email in used:
            email = f"{full}{len(used) % 97}@{names.domain(company)}"
        used.add(email)
        made.append(
            {
                "name": person,
                "title": rng.choice(names.TITLES),
                "mobile": names.mobile(NUMBER_OFFSET + number * 4 + n),
                "phone": names.landline(company.area_code, NUMBER_OFFSET + number * 4 + n)
                if rng.random() < 0.35
                else "",
                "email": email if rng.random() < 0.7 else "",
                "is_key_person": n == 0 and rng.random() < 0.7,
            }
        )
    return made


def _variant(rng: random.Random, original: _Planned) -> names.Company | None:
    """The original company with one character of its trade name swapped for a homophone."""
    trade = original.company.trade_name
    at = next((i for i, c in enumerate(trade) if c in HOMOPHONES), None)
    if at is None:
        return None
    variant = trade[:at] + HOMOPHONES[trade[at]] + trade[at + 1 :]
    c = original.company
    legal = c.legal_name.replace(trade, variant, 1)
    return names.Company(
        legal, c.short_name.replace(trade, variant, 1), variant, c.industry_word, c.industry,
        c.province, c.city, c.area_code,
    )  # fmt: skip


def plan() -> list[_Planned]:
    """Every demo customer, drawn from a fixed seed, so each run plans the same ones."""
    rng = random.Random(SEED)  # noqa: S311 (demo data, not secrets)
    weights = [share for share, _provinces in OWNERS.values()]
    owners = list(OWNERS)
    used_emails: set[str] = set()
    planned: list[_Planned] = []
    for number in range(CUSTOMER_COUNT):
        owner = rng.choices(owners, weights)[0]
        company = names.company(rng, OWNERS[owner][1])
        status = _status(rng.random())
        item = _Planned(
            company=company,
            owner=owner,
            status=status,
            days_ago=rng.randint(3, 365),
            number=number,
            nature=rng.choice(Nature.values),
            size=rng.choice(Size.values),
            credit_code=names.credit_code(company.city, NUMBER_OFFSET + number)
            if rng.random() < 0.6
            else "",
            tier=rng.choice("ABBCCC") if status == LifecycleStatus.SIGNED else "",
            followed_days_ago=rng.randint(0, 40) if rng.random() < 0.75 else None,
        )
        item.contacts = _contacts(rng, company, number, used_emails)
        if rng.random() < 0.45:
            item.tags = rng.sample(TAGS, rng.choice((1, 1, 2)))
        planned.append(item)
    originals = [p for p in planned if p.status != LifecycleStatus.CHURNED]
    for number, original in enumerate(rng.sample(originals, SIMILAR_COUNT * 2), CUSTOMER_COUNT):
        variant = _variant(rng, original)
        if variant is None or sum(p.similar for p in planned) >= SIMILAR_COUNT:
            continue
        # Usually a rep of the other team met the same company and typed it his way.
        other = [o for o in owners if o != original.owner and o.startswith("rep_")]
        owner = rng.choice(other)
        item = _Planned(
            company=variant,
            owner=owner,
            status=rng.choice((LifecycleStatus.POTENTIAL, LifecycleStatus.INTENT)),
            days_ago=rng.randint(1, 60),
            number=number,
            similar=True,
        )
        item.contacts = _contacts(rng, variant, number, used_emails)
        planned.append(item)
    return planned


def build_customers() -> int:
    """Create the planned customers that are not there yet; returns how many were made."""
    people = {u.username: u for u in User.objects.filter(username__in=[*OWNERS, "boss"])}
    existing = set(
        Customer.all_objects.filter(
            legal_name__in=[p.company.legal_name for p in plan()]
        ).values_list("legal_name", flat=True)
    )
    tags = {name: services.tag_named(name, by=people["boss"]) for name in TAGS}
    made = 0
    for item in plan():
        if item.company.legal_name in existing:
            continue
        try:
            _create(item, people, tags)
        except ValidationError:
            # The same company or contact made in another way: the demo keeps the first one.
            continue
        made += 1
    return made


@transaction.atomic
def _create(item: _Planned, people: dict[str, User], tags: dict) -> Customer:
    owner = people[item.owner]
    company = item.company
    customer = services.create_customer(
        by=owner,
        owner=owner,
        legal_name=company.legal_name,
        short_name=company.short_name,
        credit_code=item.credit_code,
        nature=item.nature,
        size=item.size,
        industry=company.industry,
        province=company.province,
        city=company.city,
        website=names.website(company) if item.number % 3 else "",
        tags=[tags[name] for name in item.tags],
        contacts=item.contacts,
        allow_similar=item.similar,
        lifecycle_status=LifecycleStatus.LEAD
        if item.status == LifecycleStatus.LEAD
        else LifecycleStatus.POTENTIAL,
    )
    _live_its_history(customer, item, people)
    return customer


def _live_its_history(customer: Customer, item: _Planned, people: dict[str, User]) -> None:
    """Move the customer along its lifecycle as events would have, then date every step in
    the past: created ``days_ago``, each later step some days after the one before."""
    owner = people[item.owner]
    manager = people[MANAGER_OF["east" if "east" in item.owner else "south"]]
    steps = {
        LifecycleStatus.INTENT: [(LifecycleStatus.INTENT, services.Cause.FOLLOW_UP)],
        LifecycleStatus.SIGNED: [
            (LifecycleStatus.INTENT, services.Cause.FOLLOW_UP),
            (LifecycleStatus.SIGNED, services.Cause.CONTRACT_EFFECTIVE),
        ],
        LifecycleStatus.CHURNED: [
            (LifecycleStatus.INTENT, services.Cause.FOLLOW_UP),
            (LifecycleStatus.SIGNED, services.Cause.FIRST_PAYMENT),
        ],
    }.get(item.status, [])
    for to, cause in steps:
        services.advance_lifecycle(customer, to=to, cause=cause, by=owner)
    if item.status == LifecycleStatus.CHURNED:
        reason = CHURN_REASONS[item.number % len(CHURN_REASONS)]
        services.override_lifecycle(customer, to=LifecycleStatus.CHURNED, reason=reason, by=manager)
    now = timezone.now()
    created = now - timedelta(days=item.days_ago, hours=item.number % 9)
    changes = list(LifecycleChange.objects.filter(customer=customer).order_by("pk"))
    trail = list(
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Customer), object_id=customer.pk
        ).order_by("pk")
    )
    # The creation, then one moment per later step, spread over the customer's life.
    moments = [
        created + (now - created) * (i / (len(changes) + 1)) for i in range(len(changes) + 1)
    ]
    for change, moment in zip(changes, moments, strict=False):
        LifecycleChange.objects.filter(pk=change.pk).update(at=moment)
    for entry, moment in zip(trail, moments, strict=False):
        AuditEntry.objects.filter(pk=entry.pk).update(at=moment)
    followed = (
        now - timedelta(days=item.followed_days_ago, hours=item.number % 7)
        if item.followed_days_ago is not None and item.followed_days_ago < item.days_ago
        else None
    )
    Customer.all_objects.filter(pk=customer.pk).update(
        created_at=created, updated_at=moments[-1], tier=item.tier, last_follow_up_at=followed
    )
    customer.contacts.update(created_at=created, updated_at=created)


def near_duplicates() -> list[tuple[Customer, Customer]]:
    """The deliberately similar pairs (variant, the customer it looks like) that exist."""
    pairs = []
    for variant in Customer.objects.filter(
        legal_name__in=[p.company.legal_name for p in plan() if p.similar]
    ):
        report = services.find_duplicates(user=None, legal_name=variant.legal_name, exclude=variant)
        if report.similar:
            pairs.append((variant, report.similar[0].customer))
    return pairs
