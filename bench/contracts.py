"""Contract benchmarks on the "large" data set (`python -m bench.contracts`): what the boss
dashboard reads of contracts (receivables ageing of the whole company and of one unit, the
renewal figures of a quarter, sales credit of a quarter per owner), the contract list page of
a rep and of a manager, the report pages, and the daily plan's contract sources over the whole
set. Writes bench/results/contracts-<database>.json.

Runs on the database of DATABASE_URL (seed it first with `tuoke bench seed --size large`);
never on the test database. A data set seeded before contracts existed gets them first (the
seed's contracts step alone, ``BENCH_SIZE``: large); the scenarios write nothing (the plan's
run is rolled back).

Budgets taken from ARCHITECTURE.md: figures feeding the boss dashboard ≤ 300 ms uncached, list
pages p95 ≤ 50 ms, the nightly plan (all its sources) ≤ 120 s.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import timedelta
from urllib.parse import urlencode

from .run import ROUNDS, _configure, judged, report, show, time_pages
from .sales import measure_function

BUDGETS_MS = {"dashboard": 300, "list": 50, "report page": 300, "plan": 120_000}
FIGURE_ROUNDS = int(os.environ.get("BENCH_FIGURE_ROUNDS", str(max(ROUNDS // 4, 10))))
PLAN_ROUNDS = int(os.environ.get("BENCH_PLAN_ROUNDS", "3"))
ONLY = os.environ.get("BENCH_ONLY", "")


def _chosen(label: str) -> bool:
    return not ONLY or ONLY.lower() in label.lower()


def _ensure_contracts() -> bool:
    """Seed the contracts of a data set that has its customers but none yet (seeded before
    the contracts step existed); False when there is no data set at all."""
    import random
    from datetime import UTC, datetime

    from tuoke.contracts.models import Contract
    from tuoke.contracts.seed import seed_contracts
    from tuoke.core.seed import SIZES, SeedContext, build_org
    from tuoke.customers.models import Customer

    if Contract.all_objects.exists():
        return True
    if not Customer.all_objects.exists():
        return False
    size = SIZES[os.environ.get("BENCH_SIZE", "large")]
    print(f"No contracts yet: seeding {size.contracts:,} and {size.payments:,} payments …")
    org = build_org(size.units, size.users_per_unit)
    context = SeedContext(
        size=size,
        rng=random.Random(20261124),
        now=datetime.now(UTC),
        people=org["people"],
        units=org["units"],
        reps=org["reps"],
        managers=org["managers"],
        log=lambda line: print(line, flush=True),
    )
    started = time.perf_counter()
    seed_contracts(context)
    print(f"seeded in {time.perf_counter() - started:.1f} s", flush=True)
    return True


def _plan_run(day, sources: list[str]):
    """The plan's contract sources as the nightly job runs them (drafts, then the tasks
    not there yet), rolled back."""
    from django.db import transaction

    from tuoke.activities.plan import generate_plan

    with transaction.atomic():
        run = generate_plan(day, only=sources)
        transaction.set_rollback(True)
    return run


def run() -> int:
    from django.db import connection
    from django.urls import reverse
    from django.utils import timezone

    from tuoke.activities.plan import get_source
    from tuoke.contracts import payments, queries
    from tuoke.contracts.models import Contract, Instalment, Payment, SalesCredit
    from tuoke.contracts.plan import OVERDUE_SOURCE, RENEWAL_SOURCE
    from tuoke.core.seed import bench_username, data_size
    from tuoke.org.models import User

    if not _ensure_contracts():
        print("No data set: seed the large data set first (`tuoke bench seed --size large`).")
        return 1
    manager = User.objects.select_related("unit").get(username=bench_username(0, 0))
    rep = User.objects.get(username=bench_username(0, 1))
    boss = User.objects.get(username="boss")
    unit = manager.unit
    today = timezone.localdate()
    quarter = queries.period_of("quarter", today)
    last_quarter = queries.period_of("quarter", quarter[0] - timedelta(days=1))
    people = {u.username: u for u in (manager, rep, boss)}
    owners = list(User.objects.filter(username__startswith="bench_").values_list("pk", flat=True))

    figures: list[dict] = []
    functions = [
        (
            "receivables, boss, whole company",
            "dashboard",
            boss.username,
            lambda: queries.receivables(boss, as_of=today).total.total,
            FIGURE_ROUNDS,
        ),
        (
            "receivables, manager, own unit",
            "dashboard",
            manager.username,
            lambda: queries.receivables(manager, as_of=today, unit=unit).total.total,
            FIGURE_ROUNDS,
        ),
        (
            "receivables, boss, one unit",
            "dashboard",
            boss.username,
            lambda: queries.receivables(boss, as_of=today, unit=unit).total.total,
            FIGURE_ROUNDS,
        ),
        (
            "renewal figures, boss, whole company, last quarter",
            "dashboard",
            boss.username,
            lambda: queries.renewal_figures(boss, start=last_quarter[0], end=last_quarter[1]),
            FIGURE_ROUNDS,
        ),
        (
            "renewal figures, manager, own unit, this quarter",
            "dashboard",
            manager.username,
            lambda: queries.renewal_figures(manager, start=quarter[0], end=quarter[1], unit=unit),
            FIGURE_ROUNDS,
        ),
        (
            "ending soon, boss, first page",
            "dashboard",
            boss.username,
            lambda: list(queries.ending_soon(boss, as_of=today)[:20]),
            FIGURE_ROUNDS,
        ),
        (
            "credit by owner, last quarter, 200 people",
            "dashboard",
            boss.username,
            lambda: payments.credit_by_owner(
                start=last_quarter[0], end=last_quarter[1], owners=owners
            ),
            FIGURE_ROUNDS,
        ),
        (
            "credited total, last quarter, one unit",
            "dashboard",
            boss.username,
            lambda: payments.credited_total(start=last_quarter[0], end=last_quarter[1], unit=unit),
            FIGURE_ROUNDS,
        ),
        (
            "credited total, last quarter, whole company",
            "dashboard",
            boss.username,
            lambda: payments.credited_total(start=last_quarter[0], end=last_quarter[1]),
            FIGURE_ROUNDS,
        ),
        (
            "plan source overdue_instalment, whole set (drafts)",
            "plan",
            "nightly job",
            lambda: get_source(OVERDUE_SOURCE).generate(today),
            PLAN_ROUNDS,
        ),
        (
            "plan source renewal_due, whole set (drafts)",
            "plan",
            "nightly job",
            lambda: get_source(RENEWAL_SOURCE).generate(today),
            PLAN_ROUNDS,
        ),
        (
            "plan run of both contract sources (rolled back)",
            "plan",
            "nightly job",
            lambda: _plan_run(today, [OVERDUE_SOURCE, RENEWAL_SOURCE]),
            PLAN_ROUNDS,
        ),
    ]
    for label, budget, username, call, rounds in functions:
        if not _chosen(label):
            continue
        result = measure_function(call, rounds)
        judged(result, label=label, user=username, budget_ms=BUDGETS_MS[budget])
        show(result, width=52)
        figures.append(result)

    contract_list = reverse("contracts:contract_list")
    receivables_url = reverse("contracts:receivables")
    renewals_url = reverse("contracts:renewals")
    pages = [
        ("contract list page, rep", "list", rep.username, contract_list),
        ("contract list page, manager", "list", manager.username, contract_list),
        ("contract list page, manager, effective",
         "list", manager.username, contract_list + "?" + urlencode({"status": "effective"})),
        ("contract list page, boss", "list", boss.username, contract_list),
        ("receivables page, boss", "report page", boss.username, receivables_url),
        ("receivables page, manager", "report page", manager.username, receivables_url),
        ("renewals page, boss", "report page", boss.username, renewals_url),
    ]  # fmt: skip
    for label, budget, username, url in pages:
        if not _chosen(label):
            continue
        rounds = ROUNDS if budget == "list" else FIGURE_ROUNDS
        figures += time_pages(
            [(label, username, url)], people, rounds, budget_ms=BUDGETS_MS[budget], width=52
        )

    sizes = data_size()
    for model in (Contract, Instalment, Payment):
        sizes[model._meta.db_table] = model.all_objects.count()
    sizes[SalesCredit._meta.db_table] = SalesCredit.objects.count()
    sizes["contracts_of_rep"] = Contract.objects.filter(owner=rep).count()
    sizes["contracts_in_unit"] = Contract.objects.filter(owner__unit=unit).count()
    sizes["awaiting_payment"] = queries.awaiting_payment(boss).count()
    return report("contracts", connection.vendor, sizes, figures)


def main() -> int:
    _configure()
    return run()


if __name__ == "__main__":
    sys.exit(main())
