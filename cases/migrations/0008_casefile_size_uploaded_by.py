from django.conf import settings
from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):
    """Case files: their size where known and who uploaded them through the portal."""

    dependencies = [
        ("cases", "0007_case_list_sort_indexes_and_counts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="casefile",
            name="size",
            field=models.PositiveBigIntegerField(blank=True, help_text="Bytes, where known.", null=True),
        ),
        migrations.AddField(
            model_name="casefile",
            name="uploaded_by",
            field=models.ForeignKey(
                blank=True,
                help_text="The portal user who uploaded it, for files uploaded here.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
