"""Benchmarks (`make bench`): time the pages and API routes against a data set and write the
figures as JSON to bench/results/. See bench/README.md.

`python -m bench.run foundation` builds its org in a throw-away test database;
`python -m bench.run customers` runs on the database of DATABASE_URL, seeded first with
`tuoke bench seed --size large`. Figures are wall-clock times of requests through Django's
full stack (middleware, session, data scope, template/JSON), served in-process, so they
exclude only the network and the WSGI server.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "200"))


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, round(q * (len(ordered) - 1)))
    return ordered[index]


def measure_calls(call, rounds: int = ROUNDS) -> dict:
    """Time ``call`` (a request through the test client) ``rounds`` times, after a warm-up;
    the queries are counted on one more call."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = call()
    assert response.status_code in (200, 201), (response.status_code, response.content[:300])
    connection.queries_log.clear()  # a full log (maxlen) would make every count zero
    with CaptureQueriesContext(connection) as queries:
        call()
    query_count = len(queries)
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return {
        "url": getattr(response, "request", {}).get("PATH_INFO", ""),
        "rounds": rounds,
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(_percentile(samples, 0.95), 2),
        "max_ms": round(max(samples), 2),
        "queries": query_count,
    }


def measure(client, url: str, rounds: int = ROUNDS) -> dict:
    result = measure_calls(lambda: client.get(url), rounds)
    result["url"] = url
    return result


def judged(result: dict, *, label: str, user: str, budget_ms: float) -> dict:
    """A figure with its scenario, its user and whether its p95 kept within the budget."""
    result.update(
        scenario=label,
        user=user,
        budget_p95_ms=budget_ms,
        within_budget=result["p95_ms"] <= budget_ms,
    )
    return result


def show(result: dict, width: int = 40) -> None:
    """One line of a figure as it comes (with "ok" or "OVER" when it has a budget)."""
    verdict = ""
    if "within_budget" in result:
        verdict = "  ok" if result["within_budget"] else "  OVER"
    print(
        f"{result['scenario']:<{width}} p50 {result['p50_ms']:>7} ms  p95 {result['p95_ms']:>7} ms"
        f"  {result['queries']:>2} queries{verdict}",
        flush=True,
    )


def time_pages(
    pages, people: dict, rounds: int = ROUNDS, *, budget_ms: float | None = None, width: int = 40
) -> list[dict]:
    """Time each page, given as (label, username, url), as that user; with ``budget_ms``
    each figure says whether it kept within it."""
    from django.test import Client

    figures = []
    for label, username, url in pages:
        client = Client()
        client.force_login(people[username])
        result = measure(client, url, rounds)
        if budget_ms is None:
            result["scenario"] = label
        else:
            judged(result, label=label, user=username, budget_ms=budget_ms)
        show(result, width)
        figures.append(result)
    return figures


def report(benchmark: str, vendor: str, data_set: dict, figures: list[dict]) -> int:
    """Write bench/results/<benchmark>-<database>.json with the machine and the figures."""
    document = {
        "benchmark": benchmark,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
        "database": vendor,
        "data_set": data_set,
        "figures": figures,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{benchmark}-{vendor}.json"
    out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print(f"written {out}")
    return 0


def _configure() -> None:
    """Settings for measuring pages in-process: production-like, without HTTPS redirects,
    throttling or a collectstatic manifest."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tuoke.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.test.utils import setup_test_environment

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SECURE_SSL_REDIRECT = False
    settings.API_THROTTLE_RATE = ""  # thousands of requests a minute are the point here
    if os.environ.get("BENCH_COUNT_CAP"):  # to compare caps of the lists' counts
        settings.LIST_COUNT_CAP = int(os.environ["BENCH_COUNT_CAP"])
    # Serve templates' {% static %} without a collectstatic manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.DEBUG = False
    setup_test_environment()
    # As Django's test cases do: keep one connection for the whole run (an in-memory SQLite
    # test database would vanish with it) so query counts are measured on it.
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)


def foundation() -> int:
    """Pages and API routes of the foundation on 200 users in 20 units, in a throw-away test
    database."""
    from django.db import connection

    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        from tuoke.core.seed import build_org

        data = build_org(units=20, users_per_unit=10)
        people = data["people"]
        scenarios = [
            ("home page, rep", "rep_east1", "/"),
            ("home page, administrator", "admin", "/"),
            ("API users list, rep (own unit)", "rep_east1", "/api/v1/users?page_size=50"),
            ("API users list, director (subtree)", "director", "/api/v1/users?page_size=50"),
            ("API users list, administrator (all)", "admin", "/api/v1/users?page_size=100"),
            ("users page, administrator", "admin", "/org/users/"),
            ("org chart page, administrator", "admin", "/org/units/"),
        ]
        figures = time_pages(scenarios, people)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    data_set = {
        "units": len(data["units"]) + 7,
        "users": len(data["reps"]) + len(data["managers"]) + 12,
    }
    return report("foundation", connection.vendor, data_set, figures)


SUITES = ("foundation", "customers")


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.run [foundation] [customers]` (default: foundation)."""
    suites = (sys.argv[1:] if argv is None else argv) or ["foundation"]
    unknown = [s for s in suites if s not in SUITES]
    if unknown:
        print(f"unknown suite(s) {unknown}; choose from {SUITES}")
        return 2
    _configure()
    status = 0
    for suite in suites:
        if suite == "foundation":
            status |= foundation()
        else:
            from . import customers

            status |= customers.run()
    return status


if __name__ == "__main__":
    sys.exit(main())
