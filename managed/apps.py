from django.apps import AppConfig


class ManagedConfig(AppConfig):
    """Cases submitted as managing partner: the submit action's relay handler is registered here."""

    name = "managed"
    verbose_name = "Cases submitted"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from managed.handlers import handlers_register

        handlers_register()
