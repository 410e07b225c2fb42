"""OutboxAction moves here from `cases`: in Django's state only. The table (cases_outboxaction),
its rows, indexes and constraints stay as they are; cases 0014 drops the model from its state
once payments 0004 points its foreign key here."""

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("cases", "0013_children_progress"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="OutboxAction",
                    fields=[
                        (
                            "id",
                            models.UUIDField(
                                default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("accept", "Accept"),
                                    ("decline", "Decline"),
                                    ("close", "Close"),
                                    ("note", "Note"),
                                    ("chat", "Chat message"),
                                    ("fees", "Fees update"),
                                    ("payment_create", "Record payment"),
                                    ("payment_update", "Correct payment"),
                                    ("payment_delete", "Delete payment"),
                                    ("file_upload", "Upload file"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("payload", models.JSONField(default=dict)),
                        ("idempotency_key", models.CharField(max_length=255, unique=True)),
                        (
                            "state",
                            models.CharField(
                                choices=[
                                    ("pending", "Pending"),
                                    ("sending", "Sending"),
                                    ("done", "Done"),
                                    ("failed", "Failed"),
                                    ("cancelled", "Cancelled"),
                                ],
                                db_index=True,
                                default="pending",
                                max_length=12,
                            ),
                        ),
                        ("attempts", models.PositiveIntegerField(default=0)),
                        ("next_attempt_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("uncertain", models.BooleanField(default=False)),
                        ("last_error", models.TextField(blank=True, help_text="In words, for the agent.")),
                        ("response", models.JSONField(blank=True, help_text="Debitura's answer.", null=True)),
                        (
                            "created_at",
                            models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                        ),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        ("heartbeat_at", models.DateTimeField(blank=True, null=True)),
                        ("done_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "actor",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="actions",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "case",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="actions",
                                to="cases.case",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "cases_outboxaction",
                        "ordering": ["created_at"],
                        "indexes": [
                            models.Index(
                                fields=["state", "next_attempt_at", "created_at"], name="outbox_due_order"
                            ),
                            models.Index(fields=["case", "created_at"], name="outbox_case_order"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
