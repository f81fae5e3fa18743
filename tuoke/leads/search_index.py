"""The leads' index behind "name contains" searches (``tuoke.core.search_index`` says how it
is built and why trigrams): the trigram index on the lead's name key. The "starts with"
conditions use the ``*_like`` indexes Django adds to the indexed text fields. Migration 0003
and ``post_migrate`` call the names below.
"""

from __future__ import annotations

from tuoke.core.search_index import TrigramIndex

INDEX = TrigramIndex(
    table="leads_lead",
    column="name_key",
    postgresql={
        "lead_name_key_trgm": (
            "CREATE INDEX IF NOT EXISTS lead_name_key_trgm "
            "ON leads_lead USING gin (name_key gin_trgm_ops)"
        ),
    },
)

TABLE = INDEX.search_table  # = tuoke.core.search.search_table(Lead)

rebuild_sqlite_index = INDEX.rebuild_sqlite
ensure_sqlite_index = INDEX.ensure_sqlite
drop_sqlite_index = INDEX.drop_sqlite
create_postgresql_index = INDEX.create_postgresql
drop_postgresql_index = INDEX.drop_postgresql
on_post_migrate = INDEX.on_post_migrate
