from django.db import migrations, models


class Migration(migrations.Migration):
    """Webhook event ids up to 200 characters (longer ones as a hash), and an index of refused deliveries."""

    dependencies = [("cases", "0010_children_errors_and_outbox_heartbeat")]

    operations = [
        migrations.AlterField(
            model_name="webhookevent",
            name="event_id",
            field=models.CharField(
                blank=True,
                db_index=True,
                help_text="The envelope's id (a hash of the body when it has none, of the id when it is longer).",
                max_length=200,
            ),
        ),
        migrations.AddIndex(
            model_name="webhookevent",
            index=models.Index(
                condition=models.Q(("state", "rejected")), fields=["id"], name="webhook_rejected"
            ),
        ),
    ]
