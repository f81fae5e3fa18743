"""Background jobs: the schedule, the purge task, and the whole chain on a real worker
(Redis broker, a `tuoke worker` process, the test database)."""

import os
import shutil
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from celery.schedules import crontab
from django.conf import settings
from django.db import connection
from django.utils import timezone
from kombu import Exchange, Queue

from tuoke.celery import app
from tuoke.core import services
from tuoke.core.models import AuditEntry
from tuoke.core.tasks import purge_recycle_bin_task
from tuoke.org.models import Role
from tuoke.org.services import create_role

PURGE_TASK = "tuoke.core.tasks.purge_recycle_bin_task"
WORKER_TIMEOUT = 60


@pytest.fixture
def tasks_eager():
    """Run tasks in this process; the Celery app read its config once, so set it there."""
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def tasks_on_the_broker():
    """Send tasks to the broker for real, whatever the test settings say."""
    before = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = before


def _deleted_role(name: str, *, days_ago: int | None) -> Role:
    role = create_role(name=name, grants={}, by=None)
    if days_ago is not None:
        services.soft_delete(role, by=None)
        Role.all_objects.filter(pk=role.pk).update(
            deleted_at=timezone.now() - timedelta(days=days_ago)
        )
    return role


def test_it_schedules_the_recycle_bin_purge_every_night():
    jobs = [job for job in app.conf.beat_schedule.values() if job["task"] == PURGE_TASK]
    assert len(jobs) == 1
    assert isinstance(jobs[0]["schedule"], crontab)
    assert jobs[0]["schedule"].hour == {3}
    assert PURGE_TASK in app.tasks


def test_it_purges_only_records_past_the_retention_period(db, tasks_eager):
    retention = settings.RECYCLE_BIN_RETENTION_DAYS
    expired = _deleted_role("expired", days_ago=retention + 1)
    recent = _deleted_role("recent", days_ago=retention - 1)
    alive = _deleted_role("alive", days_ago=None)

    assert purge_recycle_bin_task.delay().get() == 1

    assert not Role.all_objects.filter(pk=expired.pk).exists()
    assert Role.all_objects.filter(pk=recent.pk, deleted_at__isnull=False).exists()
    assert Role.objects.filter(pk=alive.pk).exists()
    assert AuditEntry.objects.filter(object_id=expired.pk, kind=AuditEntry.Kind.PURGE).exists()
    assert purge_recycle_bin_task.delay().get() == 0


# --- the real chain -------------------------------------------------------------------------


@pytest.fixture
def redis_url():
    url = os.environ.get("REDIS_URL", "")
    if not url:
        pytest.skip("REDIS_URL is not set; this test needs a real Redis server")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"REDIS_URL={url} is set but Redis does not answer: {exc}")
        pytest.skip(f"Redis at REDIS_URL={url} does not answer: {exc}")
    assert app.conf.broker_url == url, "the Celery app must use REDIS_URL as its broker"
    return url


def _test_database_url() -> str:
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    host = db["HOST"] or "localhost"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{user}{password}@{host}{port}/{quote(db['NAME'], safe='')}"


def _tuoke_command() -> list[str]:
    script = shutil.which("tuoke", path=str(Path(sys.executable).parent))
    if script:
        return [script]
    return [sys.executable, "-c", "from tuoke.cli import main; main()"]


@pytest.mark.redis
def test_it_purges_the_recycle_bin_on_a_real_worker(
    redis_url, transactional_db, tasks_on_the_broker, tmp_path
):
    if connection.vendor == "sqlite":
        # pytest-django keeps the SQLite test database in this process's memory, where a
        # worker process cannot reach it; CI runs this test on PostgreSQL with Redis.
        pytest.skip("needs a test database that another process can open (PostgreSQL)")
    role = _deleted_role("expired", days_ago=settings.RECYCLE_BIN_RETENTION_DAYS + 1)
    # A queue of its own, so parallel test processes and other runs on the same Redis
    # never take each other's tasks.
    queue = f"tuoke-test-{uuid.uuid4().hex}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tuoke.settings",
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": redis_url,
        "TUOKE_VAR_DIR": str(tmp_path / "var"),
    }
    env.pop("TUOKE_TASKS_EAGER", None)
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [
                *_tuoke_command(),
                "worker",
                "--concurrency=1",
                f"--queues={queue}",
                f"--hostname={queue}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        result = purge_recycle_bin_task.apply_async(queue=queue)
        deadline = time.monotonic() + WORKER_TIMEOUT
        while not result.ready() and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert result.ready(), f"no result within {WORKER_TIMEOUT} s:\n{log.read_text()}"
        assert result.get(timeout=1) == 1
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
        result.forget()
        with app.connection_for_write() as conn:
            # Kombu forgets a binding only on the channel that declared it.
            test_queue = Queue(queue, Exchange(queue), routing_key=queue).bind(conn.default_channel)
            test_queue.declare()
            test_queue.delete()

    assert worker.returncode is not None
    assert not Role.all_objects.filter(pk=role.pk).exists()
    assert AuditEntry.objects.filter(object_id=role.pk, kind=AuditEntry.Kind.PURGE).count() == 1
    assert f"Task {PURGE_TASK}" in log.read_text()
