from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Dashboard"

    def ready(self) -> None:
        from dashboard import tasks  # noqa: F401  (known to Celery by name, see dashboard.tasks)
