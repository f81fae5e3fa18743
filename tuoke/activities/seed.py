"""Follow-ups of the benchmark data sets (a step of ``tuoke.core.seed``): five per customer
(5,000,000 on the large set), spread over the followed-up customers' lives so that each
customer's newest follow-up is exactly its ``last_follow_up_at`` (the customers' step wrote
those), some with a next step, in realistic Chinese. Bulk-loaded like the customers.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import TYPE_CHECKING

from django.utils import timezone

from tuoke.customers.models import Customer

from .models import FollowUp, FollowUpKind

if TYPE_CHECKING:
    from tuoke.core.seed import SeedContext

FOLLOW_UPS_PER_CUSTOMER = 5
# Customers read per round (keyset pages by id); follow-ups are written per round.
PAGE = 20_000
# Share of follow-ups with a next step (the newest one's still open unless followed up since).
NEXT_STEP_SHARE = 0.25

FOLLOW_UP_FIELDS = [
    "id",
    "owner",
    "customer",
    "kind",
    "happened_at",
    "content",
    "result",
    "next_step",
    "next_step_on",
    "created_by",
    "updated_by",
    "created_at",
    "updated_at",
]

_TOPICS = (
    "报价",
    "交货期",
    "付款方式",
    "技术参数",
    "年度框架协议",
    "售后服务条款",
    "样品测试结果",
    "与竞品的对比",
    "二期扩容需求",
    "培训安排",
    "发票和对账",
    "招标文件",
)
_PEOPLE = ("采购经理", "技术总监", "总经理", "财务", "设备科长", "项目负责人", "采购专员")
_REACTIONS = (
    "表示认可，等内部审批",
    "需要内部再讨论",
    "希望价格再降5%",
    "下周给答复",
    "暂时没有新需求",
    "对方案很感兴趣",
    "要求补充资质文件",
    "预算要到下季度才批",
    "提出交货期要提前两周",
    "对售后响应速度有顾虑",
)
_OPENINGS = {
    "call": "电话沟通{topic}，{person}{reaction}。",
    "visit": "上门拜访{person}，当面介绍{topic}，对方{reaction}。",
    "wechat": "微信发送{topic}资料给{person}，对方{reaction}。",
    "email": "邮件发送{topic}说明，{person}回复{reaction}。",
    "meeting": "与{person}开会讨论{topic}，对方{reaction}。",
    "other": "整理{topic}相关材料，{person}{reaction}。",
}
_RESULTS = ("有意向", "待跟进", "已报价", "需求不明确", "已约下次拜访", "")
_NEXT_STEPS = (
    "发送报价单",
    "安排技术交流",
    "寄送样品",
    "约见采购总监",
    "跟进合同审批",
    "提交投标文件",
    "回访使用情况",
    "确认交货计划",
)


def _contents(rng: random.Random, kinds: list[str]) -> dict[str, list[str]]:
    """A pool of texts per kind; drawing from it is much faster than formatting each row."""
    pool: dict[str, list[str]] = {}
    for key in kinds:
        template = _OPENINGS.get(key, _OPENINGS["other"])
        pool[key] = [
            template.format(
                topic=rng.choice(_TOPICS),
                person=rng.choice(_PEOPLE),
                reaction=rng.choice(_REACTIONS),
            )
            for _ in range(300)
        ]
    return pool


def seed_follow_ups(context: SeedContext) -> dict[str, int]:
    from tuoke.core.seed import load

    rng = context.rng
    kinds = list(FollowUpKind.objects.filter(active=True).values_list("pk", "key"))
    # Calls and WeChat are what reps do most.
    weights = [
        {"call": 5, "wechat": 4, "visit": 2, "meeting": 1, "email": 1}.get(k, 1) for _, k in kinds
    ]
    texts = _contents(rng, [k for _, k in kinds])
    followed = Customer.all_objects.filter(last_follow_up_at__isnull=False)
    customers = followed.count()
    total = context.size.customers * FOLLOW_UPS_PER_CUSTOMER
    tz = timezone.get_current_timezone()
    with load({FollowUp: FOLLOW_UP_FIELDS}) as loaders:
        writer = loaders[FollowUp]
        next_id = writer.next_id()
        done = index = 0
        last_pk = 0
        while True:
            page = list(
                followed.filter(pk__gt=last_pk)
                .order_by("pk")
                .values_list("pk", "owner_id", "created_at", "last_follow_up_at")[:PAGE]
            )
            if not page:
                break
            last_pk = page[-1][0]
            rows = []
            for pk, owner, created, last in page:
                # Exactly ``total`` over all followed-up customers, unevenly, at least one each.
                due = (index + 1) * total // customers - done
                wanted = max(1, due + rng.choice((-2, -1, 0, 0, 1, 2)))
                if index == customers - 1:
                    wanted = max(1, total - done)
                index += 1
                done += wanted
                span = max((last - created).total_seconds(), 0.0)
                moments = sorted(
                    created + timedelta(seconds=span * rng.random()) for _ in range(wanted - 1)
                )
                moments.append(last)
                for n, at in enumerate(moments):
                    kind_pk, kind_key = rng.choices(kinds, weights)[0]
                    step, step_on = "", None
                    if rng.random() < NEXT_STEP_SHARE:
                        step = rng.choice(_NEXT_STEPS)
                        step_on = at.astimezone(tz).date() + timedelta(days=rng.randint(1, 14))
                    rows.append(
                        (
                            next_id,
                            owner,
                            pk,
                            kind_pk,
                            at,
                            rng.choice(texts[kind_key]),
                            rng.choice(_RESULTS)
                            if n == len(moments) - 1 or rng.random() < 0.5
                            else "",
                            step,
                            step_on,
                            owner,
                            owner,
                            at,
                            at,
                        )
                    )
                    next_id += 1
            writer.write(rows)
            context.log(f"follow-ups {writer.written:>10,}")
        written = {FollowUp._meta.db_table: writer.written}
    context.log("follow-ups: indexes rebuilt")
    return written
