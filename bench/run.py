"""Benchmarks (`make bench`): build a data set in a throw-away test database, time the pages
and API routes that exist, and write the figures as JSON to bench/results/.

Run on the database of DATABASE_URL (SQLite by default). Figures are wall-clock times of
requests through Django's full stack (middleware, session, data scope, template/JSON), served
in-process, so they exclude only the network and the WSGI server.
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


def build_org(units: int = 20, users: int = 200) -> dict:
    """The org of the "large" data set: 200 users in 20 units under the demo company."""
    from tuoke.org import services
    from tuoke.org.demo import build_org as build_demo_org
    from tuoke.org.models import Role

    people = build_demo_org()
    sales = people["director"].unit
    rep_role = Role.objects.get(name="销售代表")
    made = 0
    for u in range(units):
        unit = services.create_unit(name=f"销售{u + 1}组", parent=sales, by=None)
        for i in range(users // units):
            services.invite_user(
                username=f"bench_{u}_{i}",
                display_name=f"销售{u}-{i}",
                unit=unit,
                roles=[rep_role],
                password="bench-password-123",
                by=None,
            )
            made += 1
    return {"people": people, "units": units, "users": made}


def measure(client, url: str, rounds: int = ROUNDS) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    connection.queries_log.clear()  # a full log (maxlen) would make every count zero
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    query_count = len(queries)
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
    return {
        "url": url,
        "rounds": rounds,
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(_percentile(samples, 0.95), 2),
        "max_ms": round(max(samples), 2),
        "queries": query_count,
    }


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tuoke.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SECURE_SSL_REDIRECT = False
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
    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        data = build_org()
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
        figures = []
        for label, username, url in scenarios:
            client = Client()
            client.force_login(people[username])
            result = measure(client, url)
            result["scenario"] = label
            figures.append(result)
            print(
                f"{label:<40} p50 {result['p50_ms']:>7} ms  p95 {result['p95_ms']:>7} ms"
                f"  {result['queries']} queries"
            )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    vendor = connection.vendor
    report = {
        "benchmark": "foundation",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
        "database": vendor,
        "data_set": {"units": data["units"] + 7, "users": data["users"] + 12},
        "figures": figures,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"foundation-{vendor}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
