"""Sales benchmarks on the "large" data set (`python -m bench.sales`): the board of the default
pipeline (300,000 opportunities) filtered to one unit for that unit's manager, and the funnel
of the last year over the whole company for the boss, each as the function the page calls
(``tuoke.sales.board.board_data``, ``tuoke.sales.queries.funnel``) and as the page. Writes
bench/results/sales-<database>.json.

Runs on the database of DATABASE_URL (seed it first with `tuoke bench seed --size large`);
never on the test database. A data set seeded before sales existed gets its opportunities
first (the seed's sales step alone, ``BENCH_SIZE``: large); the scenarios write nothing.

Budgets taken from ARCHITECTURE.md: the board is a list page (p95 ≤ 50 ms), the funnel an
analytics figure like the boss dashboard (≤ 300 ms uncached).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import timedelta
from urllib.parse import urlencode

from .run import ROUNDS, _configure, _percentile, judged, report, show, time_pages

BUDGETS_MS = {"board": 50, "funnel": 300}
FUNNEL_ROUNDS = int(os.environ.get("BENCH_FUNNEL_ROUNDS", str(max(ROUNDS // 4, 10))))
ONLY = os.environ.get("BENCH_ONLY", "")


def measure_function(call, rounds: int = ROUNDS) -> dict:
    """Time a plain call (no request) ``rounds`` times after a warm-up, as ``measure_calls``
    does for requests; the queries are counted on one more call."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call()
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as queries:
        call()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return {
        "rounds": rounds,
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(_percentile(samples, 0.95), 2),
        "max_ms": round(max(samples), 2),
        "queries": len(queries),
    }


def _chosen(label: str) -> bool:
    return not ONLY or ONLY.lower() in label.lower()


def _ensure_opportunities() -> bool:
    """Seed the opportunities of a data set that has its customers but none yet (seeded
    before the sales step existed); False when there is no data set at all."""
    import random
    from datetime import UTC, datetime

    from tuoke.core.seed import SIZES, SeedContext, build_org
    from tuoke.customers.models import Customer
    from tuoke.sales.models import Opportunity
    from tuoke.sales.seed import seed_opportunities

    if Opportunity.all_objects.exists():
        return True
    if not Customer.all_objects.exists():
        return False
    size = SIZES[os.environ.get("BENCH_SIZE", "large")]
    print(f"No opportunities yet: seeding {size.opportunities:,} …", flush=True)
    org = build_org(size.units, size.users_per_unit)
    context = SeedContext(
        size=size,
        rng=random.Random(20261124),
        now=datetime.now(UTC),
        people=org["people"],
        units=org["units"],
        reps=org["reps"],
        managers=org["managers"],
    )
    started = time.perf_counter()
    seed_opportunities(context)
    print(f"seeded in {time.perf_counter() - started:.1f} s", flush=True)
    return True


def run() -> int:
    from django.core.cache import cache
    from django.db import connection
    from django.urls import reverse
    from django.utils import timezone

    from tuoke.core.seed import bench_username, data_size
    from tuoke.org.models import User
    from tuoke.sales.board import board_data
    from tuoke.sales.models import Opportunity, Pipeline, StageVisit
    from tuoke.sales.queries import funnel

    if not _ensure_opportunities():
        print("No data set: seed the large data set first (`tuoke bench seed --size large`).")
        return 1
    pipeline = Pipeline.objects.filter(is_default=True).first()
    manager = User.objects.select_related("unit").get(username=bench_username(0, 0))
    boss = User.objects.get(username="boss")
    unit = manager.unit
    today = timezone.localdate()
    start, end = today - timedelta(days=365), today  # the last year, today included
    people = {manager.username: manager, boss.username: boss}

    figures: list[dict] = []
    functions = [
        (
            "board_data, manager, own unit",
            "board",
            manager.username,
            lambda: board_data(manager, pipeline, {"unit": unit}),
            ROUNDS,
        ),
        (
            "board_data, boss, one unit",
            "board",
            boss.username,
            lambda: board_data(boss, pipeline, {"unit": unit}),
            ROUNDS,
        ),
        (
            # The cache emptied before each round: the figures computed.
            "funnel, boss, whole company, a year, computed",
            "funnel",
            boss.username,
            lambda: (
                cache.clear(),
                funnel(boss, start=start, end=end + timedelta(days=1), pipeline=pipeline),
            ),
            FUNNEL_ROUNDS,
        ),
        (
            # Nothing changed since the last view: the kept figures.
            "funnel, boss, whole company, a year, data unchanged",
            "funnel",
            boss.username,
            lambda: funnel(boss, start=start, end=end + timedelta(days=1), pipeline=pipeline),
            ROUNDS,
        ),
    ]
    for label, budget, username, call, rounds in functions:
        if not _chosen(label):
            continue
        result = measure_function(call, rounds)
        judged(result, label=label, user=username, budget_ms=BUDGETS_MS[budget])
        show(result, width=44)
        figures.append(result)

    board_url = reverse("sales:board", args=[pipeline.pk]) + "?" + urlencode({"unit": unit.pk})
    funnel_url = (
        reverse("sales:funnel")
        + "?"
        + urlencode(
            {
                "pipeline": pipeline.pk,
                "period": "custom",
                "start": start.isoformat(),
                "end": end.isoformat(),
            }
        )
    )
    pages = [
        ("board page, manager, own unit", "board", manager.username, board_url, ROUNDS),
        ("board page, boss, one unit", "board", boss.username, board_url, ROUNDS),
        ("funnel page, boss, whole company, a year, data unchanged", "funnel", boss.username,
         funnel_url, ROUNDS),
    ]  # fmt: skip
    for label, budget, username, url, rounds in pages:
        if not _chosen(label):
            continue
        figures += time_pages(
            [(label, username, url)], people, rounds, budget_ms=BUDGETS_MS[budget], width=44
        )

    sizes = data_size()
    sizes[Opportunity._meta.db_table] = Opportunity.all_objects.count()
    sizes[StageVisit._meta.db_table] = StageVisit.objects.count()
    sizes["open_opportunities_in_unit"] = Opportunity.objects.filter(
        owner__unit=unit, status="open"
    ).count()
    return report("sales", connection.vendor, sizes, figures)


def main() -> int:
    _configure()
    return run()


if __name__ == "__main__":
    sys.exit(main())
