from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Cases"

    def ready(self) -> None:
        from cases import signals, tasks  # noqa: F401  (tasks: known by name, see cases.tasks)
        from cases.handlers import handlers_register

        handlers_register()
