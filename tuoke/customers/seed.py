"""Customers, contacts and tags of the benchmark data sets (a step of ``tuoke.core.seed``).

Rows are generated in batches and bulk-loaded; the matching keys are the engine's own
(``normalize_company_name`` per name, pinyin once per distinct name key), so the duplicate
check and search behave on this data as they do on real records.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import connection
from pypinyin import Style, lazy_pinyin

from . import matching, names, search_index
from .models import Contact, Customer, FundingStage, LifecycleStatus, Nature, Size, Tag

if TYPE_CHECKING:
    from tuoke.core.seed import SeedContext

BATCH = 10_000
TAGS = names._words("重点客户 展会 老客户 转介绍 招投标 战略合作 价格敏感 海外业务 待回访 高潜力")

CUSTOMER_FIELDS = [
    "id",
    "legal_name",
    "short_name",
    "credit_code",
    "nature",
    "size",
    "industry",
    "province",
    "city",
    "funding_stage",
    "website",
    "lifecycle_status",
    "tier",
    "last_follow_up_at",
    "name_key",
    "pinyin_full",
    "pinyin_initials",
    "owner",
    "created_by",
    "updated_by",
    "created_at",
    "updated_at",
    "deleted_at",
    "deleted_by",
]
CONTACT_FIELDS = [
    "id",
    "customer",
    "name",
    "mobile",
    "phone",
    "email",
    "title",
    "is_key_person",
    "created_by",
    "updated_by",
    "created_at",
    "updated_at",
]

# Lifecycle statuses with their share of customers.
STATUSES = [
    (LifecycleStatus.LEAD, 0.05),
    (LifecycleStatus.POTENTIAL, 0.45),
    (LifecycleStatus.INTENT, 0.25),
    (LifecycleStatus.SIGNED, 0.20),
    (LifecycleStatus.CHURNED, 0.05),
]
HISTORY_DAYS = 3 * 365
DELETED_SHARE = 0.01

_ALL_HAN = re.compile(r"[\u4e00-\u9fff]+")


class _PinyinKeys:
    """Full pinyin and initials of a name key, as ``matching.pinyin_keys`` gives them.

    pypinyin cuts a name into words and reads each word on its own, so the words' readings
    are remembered (industry words and characters repeat across a million names) and only
    the cutting is done per name. For Han characters the initial of a syllable is its first
    letter.
    """

    def __init__(self) -> None:
        from pypinyin.core import Pinyin

        self.cut = Pinyin().seg
        self.words: dict[str, list[str]] = {}

    def __call__(self, name_key: str) -> tuple[str, str]:
        if not _ALL_HAN.fullmatch(name_key):
            return matching.pinyin_keys(name_key)
        syllables: list[str] = []
        for word in self.cut(name_key):
            found = self.words.get(word)
            if found is None:
                found = self.words[word] = lazy_pinyin(word, style=Style.NORMAL)
            syllables.extend(found)
        return (
            matching._alphanumeric("".join(syllables)),
            matching._alphanumeric("".join(s[:1] for s in syllables)),
        )


def _status(draw: float) -> str:
    for status, share in STATUSES:
        if draw < share:
            return status
        draw -= share
    return LifecycleStatus.POTENTIAL


def seed_customers(context: SeedContext) -> dict[str, int]:
    from tuoke.core.seed import load

    size, rng, now = context.size, context.rng, context.now
    owners = [u.pk for u in context.reps + context.managers]
    tags = [Tag.objects.get_or_create(name=name)[0].pk for name in TAGS]
    pinyin = _PinyinKeys()
    natures, sizes, stages = Nature.values, Size.values, FundingStage.values
    tagged_through = Customer.tags.through
    spec = {
        Customer: CUSTOMER_FIELDS,
        Contact: CONTACT_FIELDS,
        tagged_through: ["customer", "tag"],
    }
    with load(spec) as loaders:
        customer_id = first_customer = loaders[Customer].next_id()
        contact_id = loaders[Contact].next_id()
        done_contacts = 0
        for start in range(0, size.customers, BATCH):
            customers, contacts, tagged = [], [], []
            for index in range(start, min(start + BATCH, size.customers)):
                company = names.company(rng)
                name_key = matching.normalize_company_name(company.legal_name)[:200]
                full, initials = pinyin(name_key)
                owner = owners[rng.randrange(len(owners))]
                # Ids grow with the creation time, as they do in real use.
                created = now - timedelta(
                    days=HISTORY_DAYS * (1 - index / size.customers), seconds=rng.randrange(3600)
                )
                updated = created + (now - created) * rng.random() ** 2
                status = _status(rng.random())
                followed = created + (now - created) * rng.random() if rng.random() < 0.7 else None
                deleted = rng.random() < DELETED_SHARE
                customers.append(
                    (
                        customer_id,
                        company.legal_name,
                        company.short_name,
                        names.credit_code(company.city, index) if rng.random() < 0.7 else "",
                        rng.choice(natures),
                        rng.choice(sizes),
                        company.industry,
                        company.province,
                        company.city,
                        rng.choice(stages) if rng.random() < 0.3 else "",
                        names.website(company) if rng.random() < 0.5 else "",
                        status,
                        rng.choice("ABC") if status == LifecycleStatus.SIGNED else "",
                        followed,
                        name_key,
                        full[:400],
                        initials[:100],
                        owner,
                        owner,
                        owner,
                        created,
                        updated,
                        updated if deleted else None,
                        owner if deleted else None,
                    )
                )
                # Exactly size.contacts over all customers, unevenly: 0 to 4 each.
                due = (index + 1) * size.contacts // size.customers - done_contacts
                wanted = max(0, due + rng.choice((-1, 0, 0, 1)))
                if index == size.customers - 1:
                    wanted = size.contacts - done_contacts
                for n in range(wanted):
                    person = names.person_name(rng)
                    contacts.append(
                        (
                            contact_id,
                            customer_id,
                            person,
                            names.mobile(contact_id),
                            names.landline(company.area_code, contact_id)
                            if rng.random() < 0.4
                            else "",
                            f"c{contact_id}@{names.domain(company)}" if rng.random() < 0.6 else "",
                            rng.choice(names.TITLES),
                            n == 0,
                            owner,
                            owner,
                            created,
                            created,
                        )
                    )
                    contact_id += 1
                done_contacts += wanted
                if rng.random() < 0.2:
                    tagged.extend((customer_id, tag) for tag in rng.sample(tags, rng.randint(1, 3)))
                customer_id += 1
            loaders[Customer].write(customers)
            loaders[Contact].write(contacts)
            loaders[tagged_through].write(tagged)
            context.log(
                f"customers {customer_id - first_customer:>9,}  contacts {done_contacts:>9,}"
            )
        written = {
            Customer._meta.db_table: loaders[Customer].written,
            Contact._meta.db_table: loaders[Contact].written,
            tagged_through._meta.db_table: loaders[tagged_through].written,
        }
    if connection.vendor == "sqlite":
        # The triggers that keep it in step were off during the load.
        search_index.rebuild_sqlite_index(connection)
    context.log("customers: indexes rebuilt")
    return written
