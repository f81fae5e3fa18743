"""What a fresh installation starts with: one pipeline for new business with its stages, and
the usual lost reasons (connected to post_migrate in SalesConfig.ready).

Only when there is no pipeline at all (nor a lost reason, for the reasons): what an
administrator renamed, changed or removed is never put back.
"""

from __future__ import annotations

DEFAULT_PIPELINE = "新客户销售"
# name, kind, probability, expected days, required fields, marks intent
DEFAULT_STAGES = (
    ("初步接洽", "open", 10, 14, [], False),
    ("需求确认", "open", 30, 21, [], True),
    ("方案报价", "open", 50, 21, ["amount"], False),
    ("商务谈判", "open", 80, 14, ["amount", "expected_close_date"], False),
    ("赢单", "won", 100, None, [], False),
    ("输单", "lost", 0, None, [], False),
)
DEFAULT_LOST_REASONS = ("价格过高", "选择了竞争对手", "无预算", "需求取消", "联系不上")


def install_defaults(sender=None, using: str = "default", **kwargs) -> None:
    from .models import LostReason, Pipeline, Stage

    if not Pipeline.all_objects.using(using).exists():
        pipeline = Pipeline.all_objects.using(using).create(
            name=DEFAULT_PIPELINE, is_default=True, sort_order=0
        )
        Stage.all_objects.using(using).bulk_create(
            Stage(
                pipeline=pipeline,
                name=name,
                kind=kind,
                sort_order=order * 10,
                probability=probability,
                expected_days=days,
                required_fields=list(required),
                marks_intent=intent,
            )
            for order, (name, kind, probability, days, required, intent) in enumerate(
                DEFAULT_STAGES
            )
        )
    if not LostReason.all_objects.using(using).exists():
        LostReason.all_objects.using(using).bulk_create(
            LostReason(name=name, sort_order=order * 10)
            for order, name in enumerate(DEFAULT_LOST_REASONS)
        )
