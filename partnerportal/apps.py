from pathlib import Path

from django.apps import AppConfig


class PartnerPortalConfig(AppConfig):
    name = "partnerportal"
    verbose_name = "Partner Portal"

    def ready(self) -> None:
        from django.conf import settings

        from partnerportal.lookups import integer_lookups_register

        integer_lookups_register()

        # The file-system broker and SQLite need their folders before the first connection.
        for folder in (
            settings.VAR_DIR,
            settings.VAR_DIR / "celery" / "broker",
            settings.VAR_DIR / "celery" / "results",
        ):
            Path(folder).mkdir(parents=True, exist_ok=True)
