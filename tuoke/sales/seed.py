"""Opportunities of the benchmark data sets (a step of ``tuoke.core.seed``): 300,000 on the
large set (``Size.opportunities``) in the default pipeline, on living customers and owned by
their owners, each with its stage history (about four stays). Bulk-loaded like the customers.

A deal starts within the last two years (not before its customer was made) and moves through
the open stages, staying about each stage's expected days; about 30 % are won, 35 % lost (with
a reason), the rest open in some stage, as the services would leave them: every stay but the
last has left, the last one is the deal's stage (the end stage once it is closed).
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from tuoke.customers.models import Customer

from .models import LostReason, Opportunity, Pipeline, Stage, StageKind, StageVisit

if TYPE_CHECKING:
    from tuoke.core.seed import SeedContext

# Customers read per round (keyset pages by id); deals and their stays written per round.
PAGE = 20_000
HISTORY_DAYS = 2 * 365
WON_SHARE, LOST_SHARE = 0.30, 0.35  # the rest are open
SKIP_SHARE = 0.15  # deals that skipped a middle stage
STALLED_SHARE = 0.08  # stays far beyond their expected days
AMOUNTS = (50_000, 3_000_000)
SUBJECTS = (
    "MES 项目",
    "智能仓储项目",
    "视觉检测项目",
    "设备联网项目",
    "产线改造项目",
    "ERP 实施项目",
    "数字化工厂一期",
    "年度采购框架",
)

OPPORTUNITY_FIELDS = [
    "id",
    "customer",
    "title",
    "amount",
    "expected_close_date",
    "pipeline",
    "stage",
    "status",
    "stage_entered_at",
    "last_activity_at",
    "closed_at",
    "lost_reason",
    "owner",
    "created_by",
    "updated_by",
    "created_at",
    "updated_at",
    "version",
]
VISIT_FIELDS = [
    "id",
    "opportunity",
    "stage",
    "stage_name",
    "probability",
    "entered_at",
    "left_at",
    "by",
]


def bench_pipeline() -> Pipeline:
    """The default pipeline (the one a fresh installation gets, put there if missing)."""
    from .defaults import install_defaults

    install_defaults()
    found = Pipeline.objects.filter(is_default=True).first()
    return found or Pipeline.objects.order_by("sort_order", "pk").first()


def _stays_days(rng: random.Random, expected: list[int]) -> list[float]:
    days = []
    for value in expected:
        if rng.random() < STALLED_SHARE:
            days.append(value * rng.uniform(1.6, 3.0))
        else:
            days.append(value * min(max(rng.lognormvariate(0, 0.35), 0.3), 1.6))
    return days


def seed_opportunities(context: SeedContext) -> dict[str, int]:
    from tuoke.core.seed import load

    rng, now = context.rng, context.now
    total = context.size.opportunities
    if total <= 0:
        return {}
    pipeline = bench_pipeline()
    stages = list(Stage.objects.filter(pipeline=pipeline, active=True).order_by("sort_order"))
    opens = [s for s in stages if s.kind == StageKind.OPEN]
    won = next(s for s in stages if s.kind == StageKind.WON)
    lost = next(s for s in stages if s.kind == StageKind.LOST)
    expected = {s.pk: s.expected_days or 14 for s in stages}
    reasons = list(LostReason.objects.filter(active=True).values_list("pk", flat=True))
    living = Customer.objects.all()
    customers = living.count()
    floor = now - timedelta(days=HISTORY_DAYS)
    low, high = AMOUNTS
    with load({Opportunity: OPPORTUNITY_FIELDS, StageVisit: VISIT_FIELDS}) as loaders:
        deals, stays = loaders[Opportunity], loaders[StageVisit]
        opp_id, visit_id = deals.next_id(), stays.next_id()
        done = index = last_pk = 0
        while True:
            page = list(
                living.filter(pk__gt=last_pk)
                .order_by("pk")
                .values_list("pk", "owner_id", "created_at", "short_name")[:PAGE]
            )
            if not page:
                break
            last_pk = page[-1][0]
            opp_rows, visit_rows = [], []
            for pk, owner, created, short_name in page:
                # Exactly ``total`` over the living customers, unevenly (none, one or two).
                due = (index + 1) * total // customers - done
                wanted = max(0, due + rng.choice((-1, 0, 0, 0, 1)))
                if index == customers - 1:
                    wanted = max(0, total - done)
                index += 1
                done += wanted
                for _ in range(wanted):
                    # Where it went: won, lost at an open stage, or still open in one.
                    draw = rng.random()
                    if draw < WON_SHARE:
                        status, reach = "won", len(opens) - 1
                    else:
                        status = "lost" if draw < WON_SHARE + LOST_SHARE else "open"
                        reach = rng.randrange(len(opens))
                    path = opens[: reach + 1]
                    if len(path) >= 3 and rng.random() < SKIP_SHARE:
                        path.pop(rng.randrange(1, len(path) - 1))
                    days = _stays_days(rng, [expected[s.pk] for s in path])
                    first = min(
                        max(created, floor) + timedelta(hours=1), now - timedelta(minutes=2)
                    )
                    if status == "open":
                        days[-1] = expected[path[-1].pk] * rng.uniform(0.05, 2.0)
                        end = now
                    else:
                        span = (now - first).total_seconds() / 86400 - sum(days)
                        end = first + timedelta(days=sum(days) + max(span, 0) * rng.random())
                        # Squeezed into its customer's life when that is short.
                        end = max(min(end, now - timedelta(hours=1)), first + timedelta(minutes=1))
                    room = max((end - first).total_seconds() / 86400, 0.05)
                    scale = min(1.0, room / sum(days))
                    moments = [end]
                    for length in reversed(days):
                        moments.append(moments[-1] - timedelta(days=length * scale))
                    moments.reverse()  # entering each stage of the path, then its end
                    history = list(zip(path, moments[:-1], moments[1:], strict=True))
                    if status == "open":
                        current = path[-1]
                        history[-1] = (current, moments[-2], None)
                        closed_at = None
                        closes = (now + timedelta(days=rng.randint(7, 90))).date()
                    else:
                        current = won if status == "won" else lost
                        history.append((current, end, None))
                        closed_at = end
                        closes = (end + timedelta(days=rng.randint(-10, 20))).date()
                    entered = history[-1][1]
                    amount = Decimal(int(low * (high / low) ** rng.random() / 100) * 100)
                    opp_rows.append(
                        (
                            opp_id,
                            pk,
                            f"{short_name}{rng.choice(SUBJECTS)}"[:200],
                            amount,
                            closes,
                            pipeline.pk,
                            current.pk,
                            status,
                            entered,
                            entered,
                            closed_at,
                            rng.choice(reasons) if status == "lost" and reasons else None,
                            owner,
                            owner,
                            owner,
                            history[0][1],
                            entered,
                            len(history),
                        )
                    )
                    for stage, at, left in history:
                        visit_rows.append(
                            (
                                visit_id,
                                opp_id,
                                stage.pk,
                                stage.name,
                                stage.probability,
                                at,
                                left,
                                owner,
                            )
                        )
                        visit_id += 1
                    opp_id += 1
            deals.write(opp_rows)
            stays.write(visit_rows)
            context.log(f"opportunities {deals.written:>9,}  stage visits {stays.written:>10,}")
        written = {
            Opportunity._meta.db_table: deals.written,
            StageVisit._meta.db_table: stays.written,
        }
    context.log("opportunities: indexes rebuilt")
    return written
