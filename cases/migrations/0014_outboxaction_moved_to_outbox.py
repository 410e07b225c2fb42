"""OutboxAction lives in the outbox app now (outbox 0001): `cases` forgets it, in Django's state
only; the table cases_outboxaction and its rows stay."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0013_children_progress"),
        ("outbox", "0001_initial"),
        ("payments", "0004_payment_action_in_outbox"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="OutboxAction")],
            database_operations=[],
        ),
    ]
