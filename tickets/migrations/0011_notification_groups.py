"""Grouped ticket updates: a row may be held until `send_after` and sent with its `group`.

Existing rows were due when they were created: `send_after` is filled from `created_at`.
"""

import django.db.models.expressions
from django.db import migrations, models


def fill_send_after(apps, schema_editor):
    OutgoingNotification = apps.get_model("tickets", "OutgoingNotification")
    OutgoingNotification.objects.update(send_after=django.db.models.expressions.F("created_at"))


class Migration(migrations.Migration):

    dependencies = [
        ("tickets", "0010_event_kinds_merged"),
    ]

    operations = [
        migrations.AddField(
            model_name="outgoingnotification",
            name="group",
            field=models.UUIDField(
                blank=True,
                editable=False,
                help_text="Rows of one ticket and recipient sent together as one mail.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="outgoingnotification",
            name="send_after",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(fill_send_after, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="outgoingnotification",
            name="send_after",
            field=models.DateTimeField(
                help_text="When it was first to be sent: its creation, or the end of its grouping window."
            ),
        ),
        migrations.AddIndex(
            model_name="outgoingnotification",
            index=models.Index(
                condition=models.Q(("group__isnull", False), models.Q(("status", "sent"), _negated=True)),
                fields=["group"],
                name="notification_group_unsent",
            ),
        ),
    ]
