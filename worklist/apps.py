from django.apps import AppConfig


class WorklistConfig(AppConfig):
    name = "worklist"
    verbose_name = "Work list"

    def ready(self) -> None:
        # cases, payments and the outbox never import the work list: it registers its sources
        # and listens to their signals from here.
        from worklist import tasks  # noqa: F401  (known by name in every process, see cases.tasks)
        from worklist.builtin import builtin_register
        from worklist.promised import promised_register
        from worklist.receivers import receivers_connect

        builtin_register()
        promised_register()
        receivers_connect()
