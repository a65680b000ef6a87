"""The staff roles as groups with their admin permissions (data only).

Lives in `tickets`, the app above every model the roles name; the grants themselves are defined
once in `tickets.roles.ROLE_PERMISSIONS`. Permissions are created here first: Django makes them
only after all migrations ran, and a fresh database has none yet.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from tickets.roles import sync_role_groups


def create_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
        app_config.models_module = None
    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0005_event_kinds"),
        ("plans", "0005_contact_invitations_policy_changes"),
        ("sla", "0005_sweep_run"),
        ("axes", "0010_accessattemptexpiration"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
