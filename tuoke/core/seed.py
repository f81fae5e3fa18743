"""The benchmark data sets of ARCHITECTURE.md ("small" for tests, "large" for `make bench`),
written fast enough to build a million customers in minutes.

The org (units, users, roles) goes through the services like any other; the bulk records are
written by ``BulkLoader``: rows as tuples, ``executemany`` on SQLite and ``COPY`` on PostgreSQL,
with the table's secondary indexes (and SQLite triggers) dropped during the load and rebuilt
after it, which is several times faster than maintaining them row by row. Each app adds a step
to ``STEPS`` that writes its records.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from tuoke.org.models import OrgUnit, User

BENCH_PASSWORD = "bench-password-123"


@dataclass(frozen=True)
class Size:
    units: int
    users_per_unit: int
    customers: int
    contacts: int
    opportunities: int = 0
    contracts: int = 0
    payments: int = 0


SIZES: dict[str, Size] = {
    "small": Size(
        units=4,
        users_per_unit=5,
        customers=2_000,
        contacts=4_000,
        opportunities=600,
        contracts=400,
        payments=1_000,
    ),
    # A tenth of the large set, for machines (and minutes) too small for it.
    "medium": Size(
        units=20,
        users_per_unit=10,
        customers=100_000,
        contacts=200_000,
        opportunities=30_000,
        contracts=20_000,
        payments=50_000,
    ),
    "large": Size(
        units=20,
        users_per_unit=10,
        customers=1_000_000,
        contacts=2_000_000,
        opportunities=300_000,
        contracts=200_000,
        payments=500_000,
    ),
}

# Each step writes one app's records: a function (context) → {"table": rows written}.
STEPS: list[str] = [
    "tuoke.customers.seed.seed_customers",
    "tuoke.activities.seed.seed_follow_ups",
    "tuoke.sales.seed.seed_opportunities",
    "tuoke.contracts.seed.seed_contracts",
]


@dataclass
class SeedContext:
    size: Size
    rng: random.Random
    now: datetime
    people: dict[str, User]
    units: list[OrgUnit]
    reps: list[User]
    managers: list[User]
    log: Callable[[str], None] = print
    counts: dict[str, int] = field(default_factory=dict)


def bench_username(unit: int, member: int) -> str:
    return f"bench_{unit}_{member}"


@transaction.atomic
def build_org(units: int = 20, users_per_unit: int = 10) -> dict[str, Any]:
    """The demo org plus ``units`` sales units under its sales department, each with a manager
    (the first member) and reps. Idempotent: existing units and users are reused."""
    from tuoke.org import services
    from tuoke.org.defaults import ensure_default_roles
    from tuoke.org.demo import build_org as build_demo_org
    from tuoke.org.models import OrgUnit, User

    people = build_demo_org()
    roles = ensure_default_roles()
    sales = people["director"].unit
    made_units, reps, managers, fresh = [], [], [], []
    for u in range(units):
        name = f"销售{u + 1}组"
        unit = OrgUnit.objects.filter(name=name, parent=sales).first()
        unit = unit or services.create_unit(name=name, parent=sales, by=None)
        made_units.append(unit)
        for i in range(users_per_unit):
            username = bench_username(u, i)
            user = User.objects.filter(username=username).first()
            if user is None:
                role = roles["sales_manager"] if i == 0 else roles["sales_rep"]
                user = services.invite_user(
                    username=username,
                    display_name=f"销售{u + 1}-{i + 1}",
                    unit=unit,
                    roles=[role],
                    by=None,
                )
                fresh.append(user.pk)
            (managers if i == 0 else reps).append(user)
        if unit.manager_id != managers[-1].pk:
            services.update_unit(unit, by=None, manager=managers[-1])
    # One password hash for all: hashing it per user would take a minute for the large set.
    User.objects.filter(pk__in=fresh).update(password=make_password(BENCH_PASSWORD))
    return {"people": people, "units": made_units, "reps": reps, "managers": managers}


# --- Bulk loading ---------------------------------------------------------------------------


def _to_sqlite(field: models.Field) -> Callable[[Any], Any] | None:
    if isinstance(field, models.DateTimeField):
        # Django keeps datetimes on SQLite as naive UTC text.
        return lambda v: None if v is None else str(v.astimezone(UTC).replace(tzinfo=None))
    if isinstance(field, models.JSONField):
        return lambda v: json.dumps(v, ensure_ascii=False)
    if isinstance(field, models.BooleanField):
        return lambda v: None if v is None else int(v)
    return None


def _to_postgresql(field: models.Field) -> Callable[[Any], Any] | None:
    if isinstance(field, models.JSONField):
        return lambda v: json.dumps(v, ensure_ascii=False)
    return None


class BulkLoader:
    """Write rows of one model straight into its table.

    ``fields`` names the model fields each row gives, in order; every other column gets its
    field's default. Datetimes are aware, JSON values Python objects. Rows give their own ids
    (``next_id`` hands out ids after the table's current maximum), so related rows can point
    at them without reading them back.
    """

    def __init__(self, model: type[models.Model], fields: list[str]) -> None:
        meta = model._meta
        self.model = model
        self.table = meta.db_table
        given = [meta.get_field(name) for name in fields]
        rest = [f for f in meta.concrete_fields if f.name not in fields and not f.primary_key]
        self.columns = [f.column for f in given] + [f.column for f in rest]
        convert = _to_sqlite if connection.vendor == "sqlite" else _to_postgresql
        self._converters = [(i, c) for i, f in enumerate(given) if (c := convert(f)) is not None]
        self._constants = tuple(self._default(f, convert) for f in rest)
        self.written = 0

    @staticmethod
    def _default(f: models.Field, convert) -> Any:
        if f.has_default():
            value = f.get_default()
        elif f.null:
            value = None
        elif isinstance(f, models.CharField | models.TextField):
            value = ""
        else:
            raise ValueError(f"{f.model.__name__}.{f.name} needs a value in bulk loads")
        converter = convert(f)
        return converter(value) if converter and value is not None else value

    def next_id(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT MAX(id) FROM {connection.ops.quote_name(self.table)}")  # noqa: S608
            return (cursor.fetchone()[0] or 0) + 1

    def _prepared(self, rows: Iterable[tuple]) -> Iterator[tuple]:
        converters, constants = self._converters, self._constants
        for row in rows:
            if converters:
                row = list(row)
                for i, convert in converters:
                    row[i] = convert(row[i])
            yield (*row, *constants)

    def write(self, rows: Iterable[tuple]) -> int:
        """Write a batch of rows; returns how many."""
        prepared = list(self._prepared(rows))
        if not prepared:
            return 0
        quoted = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        table = connection.ops.quote_name(self.table)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                    for row in prepared:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" * len(self.columns))
                cursor.cursor.executemany(
                    f"INSERT INTO {table} ({quoted}) VALUES ({marks})",  # noqa: S608
                    prepared,
                )
        self.written += len(prepared)
        return len(prepared)


class _SecondaryStructures:
    """Drop a table's secondary indexes (and SQLite triggers) for a load, rebuild them after."""

    def __init__(self, tables: list[str]) -> None:
        self.tables = tables
        self.saved: list[str] = []

    def drop(self) -> None:
        with connection.cursor() as cursor:
            for table in self.tables:
                if connection.vendor == "postgresql":
                    cursor.execute(
                        "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                        "WHERE i.tablename = %s AND i.schemaname = current_schema() "
                        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                        "WHERE c.conindid = (quote_ident(i.schemaname) || '.' "
                        "|| quote_ident(i.indexname))::regclass)",
                        [table],
                    )
                    for name, definition in cursor.fetchall():
                        self.saved.append(definition)
                        cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
                else:
                    cursor.execute(
                        "SELECT type, name, sql FROM sqlite_master "
                        "WHERE tbl_name = %s AND type IN ('index', 'trigger') AND sql IS NOT NULL",
                        [table],
                    )
                    for kind, name, definition in cursor.fetchall():
                        self.saved.append(definition)
                        cursor.execute(f"DROP {kind.upper()} {connection.ops.quote_name(name)}")

    def rebuild(self) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Django's foreign keys are checked at commit; an index cannot be built while
                # those checks are pending, so run them now.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for definition in self.saved:
                cursor.execute(definition)
        self.saved = []


def _tune_for_load() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET synchronous_commit TO OFF")
            cursor.execute("SET maintenance_work_mem TO '512MB'")
        else:
            cursor.execute("PRAGMA cache_size = -524288")  # 512 MiB for the index builds


def _analyze(tables: list[str]) -> None:
    """Statistics for the planner; on PostgreSQL outside a transaction also the visibility
    map (VACUUM), as autovacuum leaves a table in use: without it a count reads the rows
    instead of the index (1.6 ms against 0.3 ms for a rep's customers)."""
    vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        for table in tables:
            name = connection.ops.quote_name(table)
            cursor.execute(f"VACUUM (ANALYZE) {name}" if vacuum else f"ANALYZE {name}")


def _reset_sequences(models_: list[type[models.Model]]) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite's AUTOINCREMENT follows the largest id written.
    from django.core.management.color import no_style

    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), models_):
            cursor.execute(statement)


class load:
    """``with load([Customer, Contact]) as loaders: loaders[Customer].write(rows)`` — bulk
    writes in one transaction, with indexes rebuilt, sequences reset and statistics refreshed
    at the end."""

    def __init__(self, spec: dict[type[models.Model], list[str]]) -> None:
        self.spec = spec
        self.tables = [m._meta.db_table for m in spec]
        self.structures = _SecondaryStructures(self.tables)

    def __enter__(self) -> dict[type[models.Model], BulkLoader]:
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        _tune_for_load()
        self.structures.drop()
        return {model: BulkLoader(model, fields) for model, fields in self.spec.items()}

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.structures.rebuild()
            _reset_sequences(list(self.spec))
        self.atomic.__exit__(kind, value, traceback)
        if kind is None:
            _analyze(self.tables)


# --- The whole data set ---------------------------------------------------------------------


def seed(size_name: str, *, log: Callable[[str], None] = print, seed_value: int = 20261124) -> dict:
    """Build the data set ``size_name`` in the current database; returns what was written and
    how long each part took. Refuses a database that already holds bench customers."""
    size = SIZES[size_name]
    started = time.perf_counter()
    org = build_org(size.units, size.users_per_unit)
    log(f"org: {len(org['units'])} units, {len(org['reps']) + len(org['managers'])} users")
    context = SeedContext(
        size=size,
        rng=random.Random(seed_value),  # noqa: S311 (reproducible data, not secrets)
        now=datetime.now(UTC),
        people=org["people"],
        units=org["units"],
        reps=org["reps"],
        managers=org["managers"],
        log=log,
    )
    timings = {"org_s": round(time.perf_counter() - started, 1)}
    for path in STEPS:
        step_started = time.perf_counter()
        context.counts.update(import_string(path)(context))
        timings[f"{path.rsplit('.', 1)[-1]}_s"] = round(time.perf_counter() - step_started, 1)
    timings["total_s"] = round(time.perf_counter() - started, 1)
    return {"size": size_name, "counts": context.counts, "timings": timings}


def data_size() -> dict[str, int]:
    """Rows per bench-relevant table, counted exactly (a benchmark's own bookkeeping)."""
    from django.apps import apps

    sizes = {}
    for label in (
        "org.User",
        "org.OrgUnit",
        "customers.Customer",
        "customers.Contact",
        "activities.FollowUp",
    ):
        model = apps.get_model(label)
        manager = getattr(model, "all_objects", model._base_manager)
        sizes[model._meta.db_table] = manager.count()
    return sizes
