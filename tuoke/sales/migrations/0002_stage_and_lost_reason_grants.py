"""Stages and lost reasons got record types of their own ("stage", "lost_reason"; they were
"pipeline"). Every role keeps what it could do with them: it gets, for each new type, the
grants it has on pipelines (unless it has grants on that type already). Fresh installations
have no roles yet here; their roles get the defaults after ``migrate``."""

from django.db import migrations

NEW_TYPES = ("stage", "lost_reason")


def copy_pipeline_grants(apps, schema_editor):
    RoleGrant = apps.get_model("org", "RoleGrant")
    pipeline_grants = list(
        RoleGrant.objects.filter(record_type="pipeline").values_list("role_id", "action", "scope")
    )
    if not pipeline_grants:
        return
    existing = set(
        RoleGrant.objects.filter(record_type__in=NEW_TYPES).values_list("role_id", "record_type")
    )
    RoleGrant.objects.bulk_create(
        RoleGrant(role_id=role_id, record_type=record_type, action=action, scope=scope)
        for record_type in NEW_TYPES
        for role_id, action, scope in pipeline_grants
        if (role_id, record_type) not in existing
    )


def remove_copied_grants(apps, schema_editor):
    RoleGrant = apps.get_model("org", "RoleGrant")
    RoleGrant.objects.filter(record_type__in=NEW_TYPES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0002_role_defaults"),
        ("sales", "0001_initial"),
    ]

    operations = [migrations.RunPython(copy_pipeline_grants, remove_copied_grants)]
