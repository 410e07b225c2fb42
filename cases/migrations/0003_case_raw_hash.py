"""raw_hash lets a sync skip unchanged cases without reading raw back.

Rows written before it have an empty hash, so the next sync rewrites each of them once. The
close_code change only catches up with a label in debitura.enums ("Pre-legal"); it runs no SQL.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_search_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="raw_hash",
            field=models.CharField(
                blank=True,
                editable=False,
                help_text="BLAKE2b-128 of the JSON text stored in raw.",
                max_length=32,
            ),
        ),
        migrations.AlterField(
            model_name="case",
            name="close_code",
            field=models.CharField(
                blank=True,
                choices=[
                    ("Paid", "Paid"),
                    ("PartiallyPaid", "Partially Paid"),
                    ("DebtorInsolventBankrupt", "Debtor Insolvent / Bankrupt"),
                    ("DebtorUntraceable", "Debtor Untraceable"),
                    ("DisputedLegalActionDeclinedByClient", "Disputed - Legal Action Declined by Client"),
                    ("WithdrawnByClient", "Withdrawn by Client"),
                    ("PreLegalExhaustedNoPayment", "Pre-legal Exhausted - No Payment"),
                    ("StatuteOfLimitationsExpired", "Statute of Limitations Expired"),
                    ("SettlementRejectedByClient", "Settlement Rejected by Client"),
                    ("UnresponsiveClient", "Unresponsive Client"),
                    ("UneconomicalToPursue", "Uneconomical to Pursue"),
                    ("Other", "Other"),
                    ("Unknown", "Unknown"),
                ],
                max_length=48,
            ),
        ),
    ]
