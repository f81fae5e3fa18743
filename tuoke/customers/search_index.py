"""The customers' index behind "name contains" searches (``tuoke.core.search_index`` says how
it is built and why trigrams): the trigram index on the name key, and on PostgreSQL the
"starts with" indexes model indexes cannot express. Migration 0003 and ``post_migrate`` call
the names below.
"""

from __future__ import annotations

from tuoke.core.search_index import TrigramIndex

INDEX = TrigramIndex(
    table="customers_customer",
    column="name_key",
    postgresql={
        # "name key contains" (three characters or more), for search and the list's q filter
        "customer_name_key_trgm": (
            "CREATE INDEX IF NOT EXISTS customer_name_key_trgm "
            "ON customers_customer USING gin (name_key gin_trgm_ops)"
        ),
        # "starts with" for LIKE 'x%' whatever the database's collation (as Django's *_like)
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
    },
)

TABLE = INDEX.search_table  # = tuoke.core.search.search_table(Customer)

rebuild_sqlite_index = INDEX.rebuild_sqlite
ensure_sqlite_index = INDEX.ensure_sqlite
drop_sqlite_index = INDEX.drop_sqlite
create_postgresql_indexes = INDEX.create_postgresql
drop_postgresql_indexes = INDEX.drop_postgresql
on_post_migrate = INDEX.on_post_migrate
