"""The policy revision (plans 0007) moves on any write to sla's tables the cached SLA terms
depend on: targets, escalation rules, support hours and calendars. Open periods and closures
are left out: `sla.calendars.clock_for` caches a calendar's clock by the calendar's own
`updated_at`, which every change to them moves (and that write moves the revision too)."""

from django.db import migrations

TABLES = [
    "sla_target",
    "sla_escalationrule",
    "sla_supporthours",
    "sla_businesscalendar",
]
SQLITE_NEXT = (
    "max(revision + 1, "
    "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) * 1000000 + abs(random() % 1000000))"
)


def forwards(apps, schema_editor):
    # The function (PostgreSQL) and the SQL (SQLite) are plans 0007's, copied: a migration keeps
    # its own SQL.
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(
                f"CREATE TRIGGER {table}_policy_revision "
                f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION plans_policy_revision_bump()"
            )
        elif vendor == "sqlite":
            for event in ("insert", "update", "delete"):
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_policy_revision_{event} AFTER {event.upper()} "
                    f"ON {table} FOR EACH ROW BEGIN "
                    f"UPDATE plans_policyrevision SET revision = {SQLITE_NEXT} WHERE id = 1; END"
                )
        else:
            raise NotImplementedError(f"no policy revision triggers for {vendor}")


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER {table}_policy_revision ON {table}")
        elif vendor == "sqlite":
            for event in ("insert", "update", "delete"):
                schema_editor.execute(f"DROP TRIGGER {table}_policy_revision_{event}")


class Migration(migrations.Migration):

    dependencies = [
        ("plans", "0007_policy_revision"),
        ("sla", "0009_redundant_fk_indexes"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
