"""Payment.action points at OutboxAction where it lives now (outbox); in Django's state only:
the column and its foreign key constraint name the same table as before."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("outbox", "0001_initial"),
        ("payments", "0003_payment_remote_id_per_case"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="payment",
                    name="action",
                    field=models.ForeignKey(
                        blank=True,
                        help_text="The outbox row that created or last changed it.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="payments",
                        to="outbox.outboxaction",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
