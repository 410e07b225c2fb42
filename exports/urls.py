"""Export URLs, under /exports/."""

from django.urls import path

from exports import views

app_name = "exports"

urlpatterns = [
    path("cases/", views.cases_export, name="cases"),
    path("cases/file", views.cases_export_file, name="cases_file"),
    path("documents/", views.documents_archive_start, name="documents_start"),
    path("documents/<int:archive_id>/", views.documents_archive, name="documents"),
    path("documents/<int:archive_id>/download", views.documents_archive_download, name="documents_download"),
]
