"""Export URLs, under /exports/."""

from django.urls import path

from exports import views

app_name = "exports"

urlpatterns = [
    path("cases/", views.cases_export, name="cases"),
    path("cases/file", views.cases_export_file, name="cases_file"),
    path("documents/", views.documents_archive_start, name="documents_start"),
    path("jobs/<int:job_id>/", views.export_job, name="job"),
    path("jobs/<int:job_id>/download", views.export_job_download, name="job_download"),
]
