from django.apps import AppConfig


class ExportsConfig(AppConfig):
    """Exports: the case list as CSV or XLSX, and case documents as a ZIP built in the background.

    Exports sits above cases, payments and documents (it reads the list's filters and opens files
    the way documents does); nothing imports exports: the list and the files section link to its
    URLs by name.
    """

    name = "exports"
    verbose_name = "Exports"

    def ready(self) -> None:
        from exports import tasks  # noqa: F401  (every process knows the tasks by name)
