from pathlib import Path

from django.apps import AppConfig


class PartnerPortalConfig(AppConfig):
    name = "partnerportal"
    verbose_name = "Partner Portal"

    def ready(self) -> None:
        from django.conf import settings
        from django.contrib import admin

        from partnerportal.admin import admin_date_hierarchies_guard
        from partnerportal.lookups import integer_lookups_register

        integer_lookups_register()
        # django.contrib.admin comes first in INSTALLED_APPS: every ModelAdmin is registered now.
        admin_date_hierarchies_guard(admin.site)

        # The file-system broker and SQLite need their folders before the first connection.
        for folder in (
            settings.VAR_DIR,
            settings.VAR_DIR / "celery" / "broker",
            settings.VAR_DIR / "celery" / "results",
        ):
            Path(folder).mkdir(parents=True, exist_ok=True)
