"""The whole demo, built once for the package through the `tuoke demo` command's builders,
then run again to show it adds nothing, and rolled back at the end.

Building it takes a minute on PostgreSQL, so its tests share one build: they are one xdist
group (each module's `pytestmark` names it, and `--dist loadgroup` sends the group to one
worker, one test after another) and this fixture is package-scoped.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from django.apps import apps
from django.db import transaction
from django.test import override_settings


def row_counts() -> dict[str, int]:
    """Rows of every model, soft-deleted ones included, but for the log of plan runs (each
    run of the daily plan is logged, even one that plans nothing)."""
    return {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models()
        if model.__module__.startswith("tuoke.") and model._meta.label != "activities.PlanRun"
    }


@dataclass
class Demo:
    made: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    started: dict[str, datetime] = field(default_factory=dict)
    again: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    again_counts: dict[str, int] = field(default_factory=dict)

    @property
    def people(self):
        return self.made["org"]


@pytest.fixture(scope="package")
def whole_demo(django_db_setup, django_db_blocker):
    from tuoke.org.management.commands.demo import build_demo

    built = Demo()

    def first(name, made, began, seconds):
        built.made[name], built.started[name], built.seconds[name] = made, began, seconds

    def second(name, made, began, seconds):
        built.again[name] = made

    # The tests' fast hasher (the function-scoped settings of tests/conftest.py come later).
    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), fast, transaction.atomic():
        build_demo(report=first)
        built.counts = row_counts()
        build_demo(report=second)
        built.again_counts = row_counts()
        yield built
        transaction.set_rollback(True)
