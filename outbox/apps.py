from django.apps import AppConfig
from django.core import checks


class OutboxConfig(AppConfig):
    name = "outbox"
    verbose_name = "Outbox"

    def ready(self) -> None:
        # tasks: registered in every process, so a relay queued by name (outbox.queue) goes
        # through the task (its routing, a test's stand-in) rather than straight to the broker.
        from outbox import tasks  # noqa: F401
        from outbox.registry import handlers_check

        checks.register(handlers_check)
