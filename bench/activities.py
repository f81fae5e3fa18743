"""The daily plan on the "large" data set (`python -m bench.activities`): generate_plan for a
day on 200 reps, 1,000,000 customers and 5,000,000 follow-ups (time, queries, tasks made per
source), then the same day again (must make nothing), then the pages that read the plan: a
rep's Today page, a manager's team page, GET /api/v1/plan/today. Writes
bench/results/activities-<database>.json.

Runs on the database of DATABASE_URL as it is (seed it first with
`tuoke bench seed --size large`); never on the test database. The tasks and plan runs it
makes are removed again at the end, so that each run starts from the same data.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date

from .run import _configure, report, time_pages

# ARCHITECTURE.md: all nightly jobs within 120 s; the plan aims at 30 s of them.
BUDGET_S = 30
PAGE_ROUNDS = int(os.environ.get("BENCH_ROUNDS", "50"))


def _timed_run(day: date, trigger: str) -> dict:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from tuoke.activities import plan

    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        run = plan.generate_plan(day, trigger=trigger)
        seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "queries": len(queries),
        "created": run.created,
        "counts": run.counts,
    }


def run() -> int:
    from django.db import connection

    from tuoke.activities import plan
    from tuoke.activities.models import FollowUp, PlanRun, Task
    from tuoke.core.seed import data_size
    from tuoke.org.models import User

    if not FollowUp.all_objects.exists():
        print("No follow-ups: seed the large data set first (`tuoke bench seed --size large`).")
        return 1
    chosen = os.environ.get("BENCH_DAY")
    day = date.fromisoformat(chosen) if chosen else plan.today()
    last_task = Task.all_objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    last_run = PlanRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    figures = []
    try:
        first = _timed_run(day, "bench")
        first["scenario"] = "generate_plan, first run of the day"
        first["budget_s"] = BUDGET_S
        print(
            f"{first['scenario']:<40} {first['seconds']:>7} s  {first['queries']} queries  "
            f"{first['created']:,} tasks {first['counts']}"
        )
        again = _timed_run(day, "bench")
        again["scenario"] = "generate_plan, again the same day"
        again["budget_s"] = BUDGET_S
        print(
            f"{again['scenario']:<40} {again['seconds']:>7} s  {again['queries']} queries  "
            f"{again['created']:,} tasks"
        )
        assert again["created"] == 0, "a re-run made tasks"
        figures += [first, again]

        bench_people = User.objects.filter(username__in=["bench_0_0", "bench_0_1"])
        pages = (
            ("Today page, rep", "bench_0_1", f"/activities/today/?day={day.isoformat()}"),
            ("API plan/today, rep", "bench_0_1", f"/api/v1/plan/today?day={day.isoformat()}"),
            ("team page, manager", "bench_0_0", f"/activities/team/?day={day.isoformat()}"),
        )
        figures += time_pages(pages, {u.username: u for u in bench_people}, PAGE_ROUNDS)
    finally:
        Task.all_objects.filter(pk__gt=last_task).delete()
        PlanRun.objects.filter(pk__gt=last_run).delete()
    sizes = data_size()
    sizes["reps"] = User.objects.filter(username__startswith="bench_").count()
    return report("activities", connection.vendor, sizes, figures)


def main() -> int:
    _configure()
    return run()


if __name__ == "__main__":
    sys.exit(main())
