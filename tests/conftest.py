"""Shared fixtures: the demo org chart with named people, so tests read like a story."""

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _fast_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.SECURE_SSL_REDIRECT = False
    # Uploads (contract attachments) go to the test's own folder, never into var/media.
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # The fake WeCom and DingTalk servers of the tests listen on this machine.
    settings.ROBOT_HOSTS = [*settings.ROBOT_HOSTS, "127.0.0.1", "localhost"]
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    # Each test process has its own cache, so throttling counters never leak between tests
    # even when REDIS_URL is set for the Celery tests.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": str(tmp_path),
        }
    }


@pytest.fixture
def people(db, settings):
    """The demo company's users by username (admin, boss, director, manager_east, rep_east1 …)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from tuoke.org.demo import build_org

    return build_org()


@pytest.fixture
def admin_user(people):
    return people["admin"]


@pytest.fixture
def boss(people):
    return people["boss"]


@pytest.fixture
def director(people):
    return people["director"]


@pytest.fixture
def manager_east(people):
    return people["manager_east"]


@pytest.fixture
def rep_east(people):
    return people["rep_east1"]


@pytest.fixture
def rep_east2(people):
    return people["rep_east2"]


@pytest.fixture
def rep_south(people):
    return people["rep_south1"]


def client_for(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def login():
    """login(user) → a test client with that user's session."""
    return client_for
