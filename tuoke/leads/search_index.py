"""The index behind "name contains" searches of leads (``tuoke.core.search.contains_q``),
built like the customers' one (``tuoke.customers.search_index``, which says why trigrams).

On PostgreSQL it is a ``pg_trgm`` GIN index on the lead's name key; the "starts with"
conditions use the ``*_like`` indexes Django adds to the indexed text fields. On SQLite it is
an FTS5 table with the trigram tokenizer over the name key, kept in step with the leads table
by triggers; a migration that copies the leads table drops those, so ``ensure_sqlite_index``
runs after every ``migrate`` and puts back what is missing.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "leads_lead_search"  # = tuoke.core.search.search_table(Lead)

# Written out in full: names of tables, not input.
_STATEMENTS = {
    TABLE: (
        "CREATE VIRTUAL TABLE IF NOT EXISTS leads_lead_search USING fts5(name_key, "
        "content='leads_lead', content_rowid='id', tokenize='trigram')"
    ),
    "leads_lead_search_insert": (
        "CREATE TRIGGER IF NOT EXISTS leads_lead_search_insert "
        "AFTER INSERT ON leads_lead BEGIN "
        "INSERT INTO leads_lead_search(rowid, name_key) VALUES (new.id, new.name_key); "
        "END"
    ),
    "leads_lead_search_delete": (
        "CREATE TRIGGER IF NOT EXISTS leads_lead_search_delete "
        "AFTER DELETE ON leads_lead BEGIN "
        "INSERT INTO leads_lead_search(leads_lead_search, rowid, name_key) "
        "VALUES ('delete', old.id, old.name_key); END"
    ),
    "leads_lead_search_update": (
        "CREATE TRIGGER IF NOT EXISTS leads_lead_search_update "
        "AFTER UPDATE OF name_key ON leads_lead BEGIN "
        "INSERT INTO leads_lead_search(leads_lead_search, rowid, name_key) "
        "VALUES ('delete', old.id, old.name_key); "
        "INSERT INTO leads_lead_search(rowid, name_key) VALUES (new.id, new.name_key); "
        "END"
    ),
}

POSTGRESQL_INDEX = "lead_name_key_trgm"


def rebuild_sqlite_index(connection: BaseDatabaseWrapper) -> None:
    """Refill the FTS5 table from the leads table (after bulk loads)."""
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {TABLE}({TABLE}) VALUES ('rebuild')")  # noqa: S608


def ensure_sqlite_index(connection: BaseDatabaseWrapper) -> bool:
    """Create the FTS5 table and its triggers where missing; returns whether it did."""
    with connection.cursor() as cursor:
        if "leads_lead" not in connection.introspection.table_names(cursor):
            return False
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger') "
            "AND name LIKE 'leads_lead_search%'"
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


def create_postgresql_index(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {POSTGRESQL_INDEX} "
            "ON leads_lead USING gin (name_key gin_trgm_ops)"
        )


def drop_postgresql_index(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {POSTGRESQL_INDEX}")


def on_post_migrate(using: str = "default", **kwargs) -> None:
    """Put back the SQLite search triggers a table-copying migration dropped."""
    from django.db import connections

    connection = connections[using]
    if connection.vendor == "sqlite":
        ensure_sqlite_index(connection)
