from django.apps import AppConfig


class BulknotesConfig(AppConfig):
    name = "bulknotes"
    verbose_name = "Bulk progress notes"

    def ready(self) -> None:
        # Nothing imports bulknotes: its outbox handler, its section of the case page and its
        # entry in the case list's bulk bar are registered here; its tasks are loaded by name.
        from bulknotes import tasks  # noqa: F401
        from bulknotes.case_parts import bulknotes_register
        from bulknotes.handlers import handlers_register

        handlers_register()
        bulknotes_register()
