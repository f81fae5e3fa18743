"""The settings module: safe in production, refusing unsafe combinations, a SECRET_KEY that
survives restarts, Chinese or English by the browser's wish."""

import os
import secrets
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _tuoke_command() -> list[str]:
    script = shutil.which("tuoke", path=str(Path(sys.executable).parent))
    if script:
        return [script]
    return [sys.executable, "-c", "from tuoke.cli import main; main()"]


def _run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """Run a command with nothing of this machine's environment but PATH and HOME."""
    clean = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "TUOKE_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "tuoke.settings",
        **env,
    }
    return subprocess.run(
        args, env=clean, cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )


def _python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    return _run([sys.executable, "-c", code], tmp_path, **env)


PRINT_SETTING = "import django; django.setup(); from django.conf import settings; print({})"


def test_it_passes_the_deployment_checks_in_production_mode(tmp_path):
    done = _run(
        [*_tuoke_command(), "check", "--deploy", "--fail-level", "WARNING"],
        tmp_path,
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="crm.example.com",
        DATABASE_URL=f"sqlite:///{tmp_path / 'tuoke.sqlite3'}",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout
    assert "WARNING" not in done.stdout + done.stderr


def test_it_generates_the_secret_key_once_and_keeps_it(tmp_path):
    first = _python(PRINT_SETTING.format("settings.SECRET_KEY"), tmp_path)
    second = _python(PRINT_SETTING.format("settings.SECRET_KEY"), tmp_path)
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert len(key) >= 50
    assert second.stdout.strip() == key
    key_file = tmp_path / "var" / "secret_key"
    assert key_file.read_text().strip() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_it_generates_one_secret_key_for_processes_starting_together(tmp_path):
    code = PRINT_SETTING.format("settings.SECRET_KEY")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TUOKE_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "tuoke.settings",
    }
    starting = [
        subprocess.Popen(
            [sys.executable, "-c", code], env=env, cwd=REPO, stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    keys = {process.communicate(timeout=120)[0].strip() for process in starting}
    assert keys == {(tmp_path / "var" / "secret_key").read_text().strip()}
    assert [p.name for p in (tmp_path / "var").glob("secret_key*")] == ["secret_key"]


def test_it_prefers_the_secret_key_from_the_environment(tmp_path):
    key = secrets.token_urlsafe(64)
    done = _python(PRINT_SETTING.format("settings.SECRET_KEY"), tmp_path, SECRET_KEY=key)
    assert done.stdout.strip() == key
    assert not (tmp_path / "var" / "secret_key").exists()


def test_it_refuses_debug_with_a_public_host(tmp_path):
    done = _python(
        "import tuoke.settings", tmp_path, TUOKE_DEBUG="true", ALLOWED_HOSTS="crm.example.com"
    )
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert "ALLOWED_HOSTS" in done.stderr


def test_it_allows_debug_on_this_machine(tmp_path):
    done = _python(PRINT_SETTING.format("settings.DEBUG"), tmp_path, TUOKE_DEBUG="true")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


def test_it_refuses_a_short_secret_key(tmp_path):
    done = _python("import tuoke.settings", tmp_path, SECRET_KEY="too-short")
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert "SECRET_KEY" in done.stderr


def test_it_defaults_to_shanghai_time_and_offers_chinese_and_english(tmp_path):
    done = _python(
        PRINT_SETTING.format(
            "settings.TIME_ZONE, settings.CELERY_TIMEZONE, [c for c, _ in settings.LANGUAGES],"
            " settings.DEBUG"
        ),
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Asia/Shanghai Asia/Shanghai ['zh-hans', 'en'] False"


def test_it_runs_jobs_on_the_filesystem_without_redis_and_on_redis_with_it(tmp_path):
    code = PRINT_SETTING.format("settings.CELERY_BROKER_URL, settings.CELERY_RESULT_BACKEND")
    embedded = _python(code, tmp_path)
    assert embedded.stdout.split() == ["filesystem://localhost//", "None"]
    assert (tmp_path / "var" / "celery" / "out").is_dir()
    redis = _python(code, tmp_path, REDIS_URL="redis://redis.example.com:6379/0")
    assert redis.stdout.split() == ["redis://redis.example.com:6379/0"] * 2


# --- language of the pages ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-hans"),
        ("zh", "zh-hans"),
        ("zh-Hans-CN", "zh-hans"),
        ("zh-TW,zh;q=0.9", "zh-hans"),
        ("en-US,zh-CN;q=0.5", "en"),
        ("en-US,en;q=0.9", "en"),
        ("de-DE,fr;q=0.8", "en"),
        ("", "en"),
    ],
)
def test_it_speaks_the_language_asked_for_on_the_login_page(client, db, accept_language, expected):
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE=accept_language)
    assert response.status_code == 200
    language = response.wsgi_request.LANGUAGE_CODE
    assert language == expected
    assert f'<html lang="{expected}"' in response.content.decode()


def test_it_prefers_the_language_chosen_with_the_switch(client, db, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    language = response.wsgi_request.LANGUAGE_CODE
    assert language == "en"
