"""The index behind "name contains" searches that model indexes cannot express.

On PostgreSQL it is a ``pg_trgm`` GIN index on the name key (migration 0003). On SQLite it is
an FTS5 table with the trigram tokenizer over the same column, kept in step with the customers
table by triggers. SQLite migrations that alter the customers table copy it into a new one and
drop its triggers on the way, so ``ensure_sqlite_index`` runs after every ``migrate`` and puts
back what is missing (and refills the table, since writes may have gone unrecorded).

Why trigrams and not only precomputed keys: a rep types any part of a name (精密科技, 华信电),
not just its start; with a million customers a scan of the names takes half a second on SQLite,
the trigram table answers in milliseconds (bench/results/customers-sqlite.json).
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "customers_customer_search"  # = tuoke.core.search.search_table(Customer)

# Written out in full: names of tables, not input.
_STATEMENTS = {
    TABLE: (
        "CREATE VIRTUAL TABLE IF NOT EXISTS customers_customer_search USING fts5(name_key, "
        "content='customers_customer', content_rowid='id', tokenize='trigram')"
    ),
    "customers_customer_search_insert": (
        "CREATE TRIGGER IF NOT EXISTS customers_customer_search_insert "
        "AFTER INSERT ON customers_customer BEGIN "
        "INSERT INTO customers_customer_search(rowid, name_key) VALUES (new.id, new.name_key); "
        "END"
    ),
    "customers_customer_search_delete": (
        "CREATE TRIGGER IF NOT EXISTS customers_customer_search_delete "
        "AFTER DELETE ON customers_customer BEGIN "
        "INSERT INTO customers_customer_search(customers_customer_search, rowid, name_key) "
        "VALUES ('delete', old.id, old.name_key); END"
    ),
    "customers_customer_search_update": (
        "CREATE TRIGGER IF NOT EXISTS customers_customer_search_update "
        "AFTER UPDATE OF name_key ON customers_customer BEGIN "
        "INSERT INTO customers_customer_search(customers_customer_search, rowid, name_key) "
        "VALUES ('delete', old.id, old.name_key); "
        "INSERT INTO customers_customer_search(rowid, name_key) VALUES (new.id, new.name_key); "
        "END"
    ),
}

POSTGRESQL_INDEXES = {
    # "name key contains" (three characters or more), for search and the list's q filter
    "customer_name_key_trgm": (
        "CREATE INDEX IF NOT EXISTS customer_name_key_trgm "
        "ON customers_customer USING gin (name_key gin_trgm_ops)"
    ),
    # "starts with" for LIKE 'x%' whatever the database's collation (as Django's *_like indexes)
    "customer_short_name_like": (
        "CREATE INDEX IF NOT EXISTS customer_short_name_like "
        "ON customers_customer (short_name varchar_pattern_ops)"
    ),
    "customer_pinyin_like": (
        "CREATE INDEX IF NOT EXISTS customer_pinyin_like "
        "ON customers_customer (pinyin_full varchar_pattern_ops)"
    ),
    "contact_name_like": (
        "CREATE INDEX IF NOT EXISTS contact_name_like "
        "ON customers_contact (name varchar_pattern_ops)"
    ),
}


def rebuild_sqlite_index(connection: BaseDatabaseWrapper) -> None:
    """Refill the FTS5 table from the customers table (after bulk loads)."""
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {TABLE}({TABLE}) VALUES ('rebuild')")  # noqa: S608


def ensure_sqlite_index(connection: BaseDatabaseWrapper) -> bool:
    """Create the FTS5 table and its triggers where missing; returns whether it did."""
    with connection.cursor() as cursor:
        names = connection.introspection.table_names(cursor)
        if "customers_customer" not in names:
            return False
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger') "
            "AND name LIKE 'customers_customer_search%'"
        )
        present = {row[0] for row in cursor.fetchall()}
        if present >= set(_STATEMENTS):
            return False
        for statement in _STATEMENTS.values():
            cursor.execute(statement)
    rebuild_sqlite_index(connection)
    return True


def drop_sqlite_index(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for name in reversed(list(_STATEMENTS)):
            kind = "TABLE" if name == TABLE else "TRIGGER"
            cursor.execute(f"DROP {kind} IF EXISTS {name}")


def create_postgresql_indexes(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for statement in POSTGRESQL_INDEXES.values():
            cursor.execute(statement)


def drop_postgresql_indexes(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for name in POSTGRESQL_INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")


def on_post_migrate(using: str = "default", **kwargs) -> None:
    """Put back the SQLite search triggers a table-copying migration dropped."""
    from django.db import connections

    connection = connections[using]
    if connection.vendor == "sqlite":
        ensure_sqlite_index(connection)
