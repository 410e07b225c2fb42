"""A permission to submit cases as managing partner, held by Agents and up (accounts.roles)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from accounts.roles import roles_sync


def give_roles_the_permission(apps, schema_editor):
    # Permissions are normally created after all migrations ran; the roles need the new one now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    roles_sync(
        group_model=apps.get_model("auth", "Group"), permission_model=apps.get_model("auth", "Permission")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_preferences_saved_views"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="capability",
            options={
                "default_permissions": (),
                "managed": False,
                "permissions": [
                    ("view_cases", "Can view cases assigned to the agency"),
                    ("work_cases", "Can act on cases (accept, close, notes, chat, payments, files)"),
                    ("view_all_cases", "Can see every agent's work"),
                    ("reassign_cases", "Can reassign cases between agents"),
                    ("export_data", "Can export case and payment lists"),
                    ("submit_cases", "Can submit cases to Debitura's network as managing partner"),
                ],
            },
        ),
        migrations.RunPython(give_roles_the_permission, migrations.RunPython.noop),
    ]
