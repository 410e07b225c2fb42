"""The model's content type moves with it: the row that said ("cases", "outboxaction") says
("outbox", "outboxaction"), keeping its id. Its four permissions, the roles and users holding
them, and admin's history of the rows hang on that id, so they all follow; the permissions are
named outbox.<action>_outboxaction from now on."""

from django.db import migrations


def _relabel(apps, schema_editor, old, new):
    content_types = apps.get_model("contenttypes", "ContentType").objects.using(
        schema_editor.connection.alias
    )
    moving = content_types.filter(app_label=old, model="outboxaction").first()
    if moving is None:
        return  # a new database: post_migrate creates the content type under its new label
    # One made for the new label in between (by a run of post_migrate on this code before this
    # migration) holds nothing yet that the old one does not: it gives way, with its permissions.
    content_types.filter(app_label=new, model="outboxaction").delete()
    moving.app_label = new
    moving.save(update_fields=["app_label"])


def forwards(apps, schema_editor):
    _relabel(apps, schema_editor, "cases", "outbox")


def backwards(apps, schema_editor):
    _relabel(apps, schema_editor, "outbox", "cases")


class Migration(migrations.Migration):
    dependencies = [
        ("outbox", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
