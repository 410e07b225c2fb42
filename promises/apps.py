from django.apps import AppConfig


class PromisesConfig(AppConfig):
    name = "promises"
    verbose_name = "Promises to pay"

    def ready(self) -> None:
        # Nothing imports promises: its case page section and panel entry are registered with
        # cases, and its receivers listen to the payments it reads.
        from promises.case_parts import promises_register
        from promises.receivers import receivers_connect

        promises_register()
        receivers_connect()
