from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    """Case documents: upload checks, the upload action and its outbox handler, opening files.

    Documents depends on cases (CaseFile is a case's synced child data, the upload is a case
    action); cases never imports documents: its page includes documents' templates, and its
    urls.py includes documents.urls by name under the `cases:` namespace.
    """

    name = "documents"
    verbose_name = "Documents"

    def ready(self) -> None:
        from documents.handlers import upload_handler_register

        upload_handler_register()
