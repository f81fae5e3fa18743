from django.db import migrations

from tuoke.leads import search_index


def create_search_index(apps, schema_editor):
    """pg_trgm on PostgreSQL, the FTS5 trigram table on SQLite (the lead search's "contains")."""
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        search_index.create_postgresql_index(connection)
    elif connection.vendor == "sqlite":
        search_index.ensure_sqlite_index(connection)


def drop_search_index(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        search_index.drop_postgresql_index(connection)
    elif connection.vendor == "sqlite":
        search_index.drop_sqlite_index(connection)


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0002_search_indexes"),
    ]

    operations = [
        migrations.RunPython(create_search_index, drop_search_index),
    ]
