"""Throughput of the customer list under gunicorn: `python -m bench.load` (see bench/README.md).

ARCHITECTURE.md asks the customer list page for ≥ 200 requests/s with 8 concurrent clients,
gunicorn on the same 2 cores. This starts gunicorn on the database of DATABASE_URL (seeded with
`tuoke bench seed --size large`), logs the bench users in (sessions written directly), and runs
8 clients for BENCH_LOAD_SECONDS (20) over the list page's scenarios (rep, manager, boss;
filtered, sorted, searched). The clients are asyncio sockets in this one process, so they take
little of the 2 cores from the server. Writes bench/results/load-<database>.json.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from .run import _percentile, report

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "20"))
WORKERS = os.environ.get("BENCH_WORKERS", "3")
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sessions(usernames: list[str]) -> dict[str, str]:
    """A logged-in session cookie per user, as the login view would leave it."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from tuoke.org.models import User

    cookies = {}
    for user in User.objects.filter(username__in=usernames):
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        cookies[user.username] = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
    return cookies


def _requests(cookies: dict[str, str], prefixes: list[str]) -> list[tuple[str, bytes]]:
    """(label, raw HTTP request) for the list page scenarios of bench/customers.py."""
    found = []
    for role, username in (("rep", "bench_0_1"), ("manager", "bench_0_0"), ("boss", "boss")):
        queries = ["?sort=-updated", "?status=intent&sort=-updated", "?sort=name"]
        queries += [f"?q={quote(p)}&sort=-updated" for p in prefixes[:3]]
        for query in queries:
            raw = (
                f"GET /customers/{query} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Cookie: {cookies[username]}\r\nAccept-Language: zh-hans\r\n"
                "Connection: close\r\n\r\n"
            ).encode()
            found.append((f"{role} {query}", raw))
    return found


async def _client(port: int, requests, deadline: float, samples: list, errors: list, start: int):
    index = start
    while time.perf_counter() < deadline:
        label, raw = requests[index % len(requests)]
        index += 1
        began = time.perf_counter()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(raw)
            await writer.drain()
            data = await reader.read()
            writer.close()
        except OSError as exc:
            errors.append(f"{label}: {exc}")
            continue
        status = data[9:12]
        if status != b"200":
            errors.append(f"{label}: HTTP {status.decode(errors='replace')}")
            continue
        samples.append((time.perf_counter() - began) * 1000)


async def _load(port: int, requests) -> tuple[list[float], list[str], float]:
    samples: list[float] = []
    errors: list[str] = []
    # Warm every worker up (templates, caches) before measuring.
    warm_deadline = time.perf_counter() + 3
    await asyncio.gather(
        *(_client(port, requests, warm_deadline, [], errors, i * 3) for i in range(CLIENTS))
    )
    errors.clear()
    began = time.perf_counter()
    deadline = began + SECONDS
    await asyncio.gather(
        *(_client(port, requests, deadline, samples, errors, i * 3) for i in range(CLIENTS))
    )
    return samples, errors, time.perf_counter() - began


def _wait_for(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn stopped with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def run() -> int:
    from django.db import connection

    from tuoke.customers.models import Customer
    from tuoke.org.models import User

    rep = User.objects.filter(username="bench_0_1").first()
    if rep is None:
        raise SystemExit("No bench data here: run `tuoke bench seed --size large` first.")
    names = Customer.objects.filter(owner=rep).order_by("-pk").values_list("name_key", flat=True)
    prefixes = [name[:2] for name in names[:3]]
    cookies = _sessions(["bench_0_1", "bench_0_0", "boss"])
    requests = _requests(cookies, prefixes)
    port = _free_port()
    env = {
        **os.environ,
        "TUOKE_DEBUG": "false",
        "TUOKE_SSL_REDIRECT": "false",
        "STATIC_ROOT": str(ROOT / "var" / "bench" / "static"),
    }
    # Production serves the collected, hashed static files (whitenoise's manifest).
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "tuoke"), "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "tuoke.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            WORKERS,
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        _wait_for(port, server)
        samples, errors, elapsed = asyncio.run(_load(port, requests))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    if not samples:
        raise SystemExit(f"no successful request: {errors[:5]}")
    throughput = len(samples) / elapsed
    figure = {
        "scenario": f"customer list page, {CLIENTS} concurrent clients, gunicorn {WORKERS} workers",
        "requests": len(samples),
        "errors": len(errors),
        "seconds": round(elapsed, 1),
        "requests_per_s": round(throughput, 1),
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(_percentile(samples, 0.95), 2),
        "max_ms": round(max(samples), 2),
        "budget_requests_per_s": 200,
        "within_budget": throughput >= 200,
    }
    print(
        f"{figure['scenario']}: {figure['requests_per_s']} req/s, p50 {figure['p50_ms']} ms, "
        f"p95 {figure['p95_ms']} ms, {len(errors)} errors {errors[:3]}"
    )
    return report("load", connection.vendor, {"clients": CLIENTS}, [figure])


if __name__ == "__main__":
    from .run import _configure

    _configure()
    sys.exit(run())
