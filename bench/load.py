"""Throughput of the customer list under gunicorn: `python -m bench.load` (see bench/README.md).

ARCHITECTURE.md asks the customer list page for ≥ 200 requests/s with 8 concurrent clients,
gunicorn on the same 2 cores. This starts gunicorn on the database of DATABASE_URL (seeded with
`tuoke bench seed --size large`), logs the bench users in (sessions written directly), and runs
8 clients for BENCH_LOAD_SECONDS (20) over the list page's scenarios (rep, manager, boss;
filtered, sorted, searched). Writes bench/results/load-<database>.json.

The clients are wrk's (Debian's `wrk` package: `apt-get install wrk`), 8 connections on 2
threads, when it is installed: a load generator in C takes the least of the 2 cores the server
shares with it. Without it (or with BENCH_CLIENT=python) they are asyncio sockets in this
process, which take a tenth or more of the cores, so the figure comes out lower.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from .run import _percentile, report

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "20"))
WORKERS = os.environ.get("BENCH_WORKERS", str(os.cpu_count() or 2))  # one per core, as README
CLIENT = os.environ.get("BENCH_CLIENT", "wrk" if shutil.which("wrk") else "python")
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


def _requests(cookies: dict[str, str], prefixes: list[str]) -> list[tuple[str, str, str]]:
    """(label, path, cookie) for the list page scenarios of bench/customers.py."""
    found = []
    for role, username in (("rep", "bench_0_1"), ("manager", "bench_0_0"), ("boss", "boss")):
        queries = ["?sort=-updated", "?status=intent&sort=-updated", "?sort=name"]
        queries += [f"?q={quote(p)}&sort=-updated" for p in prefixes[:3]]
        for query in queries:
            found.append((f"{role} {query}", f"/customers/{query}", cookies[username]))
    return found


def _raw(path: str, cookie: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
        "Accept-Language: zh-hans\r\nConnection: close\r\n\r\n"
    ).encode()


# wrk's script: each connection walks the scenarios from its own place; at the end one JSON
# line with the figures (latencies in microseconds).
WRK_SCRIPT = """
local scenarios = {%(scenarios)s}
local at = 0
init = function(args) at = math.random(#scenarios) end
request = function()
  at = at %% #scenarios + 1
  local s = scenarios[at]
  return wrk.format("GET", s[1], {["Cookie"] = s[2], ["Accept-Language"] = "zh-hans"})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %%d, "micros": %%d, "p50": %%d, "p95": %%d, "max": %%d, '
    .. '"errors": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency.max, e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def _wrk(port: int, requests, seconds: float) -> dict:
    scenarios = ", ".join(
        f"{{{json.dumps(path)}, {json.dumps(cookie)}}}" for _label, path, cookie in requests
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT % {"scenarios": scenarios})
        script.flush()
        done = subprocess.run(
            [
                "wrk",
                "-t",
                "2",
                "-c",
                str(CLIENTS),
                "-d",
                f"{seconds:.0f}s",
                "-s",
                script.name,
                f"http://127.0.0.1:{port}/",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


async def _client(port: int, requests, deadline: float, samples: list, errors: list, start: int):
    index = start
    while time.perf_counter() < deadline:
        label, path, cookie = requests[index % len(requests)]
        raw = _raw(path, cookie)
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


def _check(port: int, requests) -> None:
    """Every scenario answers 200 with the list (wrk counts a redirect to the login page as a
    success)."""
    for label, path, cookie in requests:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
            conn.sendall(_raw(path, cookie))
            data = b""
            while chunk := conn.recv(65536):
                data += chunk
        if data[9:12] != b"200" or b'id="customer-results"' not in data:
            raise SystemExit(f"{label}: {data[:200]!r}")


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
        _check(port, requests)
        if CLIENT == "wrk":
            _wrk(port, requests, 3)  # warm every worker up (templates, caches)
            found = _wrk(port, requests, SECONDS)
            elapsed = found["micros"] / 1e6
            measured = {
                "requests": found["requests"],
                "errors": found["errors"],
                "p50_ms": found["p50"] / 1000,
                "p95_ms": found["p95"] / 1000,
                "max_ms": found["max"] / 1000,
            }
        else:
            samples, errors, elapsed = asyncio.run(_load(port, requests))
            if not samples:
                raise SystemExit(f"no successful request: {errors[:5]}")
            measured = {
                "requests": len(samples),
                "errors": len(errors),
                "p50_ms": statistics.median(samples),
                "p95_ms": _percentile(samples, 0.95),
                "max_ms": max(samples),
            }
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    throughput = measured["requests"] / elapsed
    figure = {
        "scenario": f"customer list page, {CLIENTS} concurrent clients ({CLIENT}), "
        f"gunicorn {WORKERS} workers",
        "requests": measured["requests"],
        "errors": measured["errors"],
        "seconds": round(elapsed, 1),
        "requests_per_s": round(throughput, 1),
        "p50_ms": round(measured["p50_ms"], 2),
        "p95_ms": round(measured["p95_ms"], 2),
        "max_ms": round(measured["max_ms"], 2),
        "budget_requests_per_s": 200,
        "within_budget": throughput >= 200 and not measured["errors"],
    }
    print(
        f"{figure['scenario']}: {figure['requests_per_s']} req/s, p50 {figure['p50_ms']} ms, "
        f"p95 {figure['p95_ms']} ms, {measured['errors']} errors"
    )
    data_set = {"clients": CLIENTS, "customers": Customer.all_objects.count()}
    return report("load", connection.vendor, data_set, [figure])


if __name__ == "__main__":
    from .run import _configure

    _configure()
    sys.exit(run())
