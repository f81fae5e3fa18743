"""The indexes behind "contains" searches that model indexes cannot express (the conditions
that use them: ``tuoke.core.search.contains_q``); an app declares one ``TrigramIndex`` per
searchable table and its migrations and ``post_migrate`` call it.

On PostgreSQL it is a ``pg_trgm`` GIN index on the column (plus any further statements the app
names). On SQLite it is an FTS5 table with the trigram tokenizer over the same column, kept in
step with the table by triggers. SQLite migrations that alter a table copy it into a new one
and drop its triggers on the way, so ``ensure_sqlite`` runs after every ``migrate`` and puts
back what is missing (and refills the table, since writes may have gone unrecorded).

Why trigrams and not only precomputed keys: a rep types any part of a name (精密科技, 华信电),
not just its start; with a million customers a scan of the names takes half a second on SQLite,
the trigram table answers in milliseconds (bench/results/customers-sqlite.json).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.backends.base.base import BaseDatabaseWrapper

# The statements below are made of names of tables and columns written out in the apps,
# never of input.


@dataclass(frozen=True)
class TrigramIndex:
    """The trigram index over ``table.column``; ``postgresql`` maps the names of the
    PostgreSQL indexes to the statements that create them (``IF NOT EXISTS``)."""

    table: str
    column: str
    postgresql: dict[str, str] = field(default_factory=dict)

    @property
    def search_table(self) -> str:
        """The FTS5 table (= ``tuoke.core.search.search_table`` of the model)."""
        return f"{self.table}_search"

    def _sqlite_statements(self) -> dict[str, str]:
        fts, table, column = self.search_table, self.table, self.column
        return {
            fts: (
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5({column}, "
                f"content='{table}', content_rowid='id', tokenize='trigram')"
            ),
            f"{fts}_insert": (
                f"CREATE TRIGGER IF NOT EXISTS {fts}_insert AFTER INSERT ON {table} BEGIN "  # noqa: S608
                f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column}); END"
            ),
            f"{fts}_delete": (
                f"CREATE TRIGGER IF NOT EXISTS {fts}_delete AFTER DELETE ON {table} BEGIN "  # noqa: S608
                f"INSERT INTO {fts}({fts}, rowid, {column}) "
                f"VALUES ('delete', old.id, old.{column}); END"
            ),
            f"{fts}_update": (
                f"CREATE TRIGGER IF NOT EXISTS {fts}_update "  # noqa: S608
                f"AFTER UPDATE OF {column} ON {table} BEGIN "
                f"INSERT INTO {fts}({fts}, rowid, {column}) "
                f"VALUES ('delete', old.id, old.{column}); "
                f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column}); END"
            ),
        }

    def rebuild_sqlite(self, connection: BaseDatabaseWrapper) -> None:
        """Refill the FTS5 table from the table (after bulk loads)."""
        fts = self.search_table
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")  # noqa: S608

    def ensure_sqlite(self, connection: BaseDatabaseWrapper) -> bool:
        """Create the FTS5 table and its triggers where missing; returns whether it did."""
        statements = self._sqlite_statements()
        with connection.cursor() as cursor:
            if self.table not in connection.introspection.table_names(cursor):
                return False
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger') "
                "AND name LIKE %s",
                [f"{self.search_table}%"],
            )
            present = {row[0] for row in cursor.fetchall()}
            if present >= set(statements):
                return False
            for statement in statements.values():
                cursor.execute(statement)
        self.rebuild_sqlite(connection)
        return True

    def drop_sqlite(self, connection: BaseDatabaseWrapper) -> None:
        with connection.cursor() as cursor:
            for name in reversed(list(self._sqlite_statements())):
                kind = "TABLE" if name == self.search_table else "TRIGGER"
                cursor.execute(f"DROP {kind} IF EXISTS {name}")

    def create_postgresql(self, connection: BaseDatabaseWrapper) -> None:
        with connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            for statement in self.postgresql.values():
                cursor.execute(statement)

    def drop_postgresql(self, connection: BaseDatabaseWrapper) -> None:
        with connection.cursor() as cursor:
            for name in self.postgresql:
                cursor.execute(f"DROP INDEX IF EXISTS {name}")

    def on_post_migrate(self, using: str = "default", **kwargs) -> None:
        """Put back the SQLite search triggers a table-copying migration dropped."""
        from django.db import connections

        connection = connections[using]
        if connection.vendor == "sqlite":
            self.ensure_sqlite(connection)
