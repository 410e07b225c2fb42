"""The case page's file URLs. Included by cases/urls.py, so their names stay `cases:file_upload`,
`cases:file_open` and `cases:upload_open` and their paths stay under /cases/<case>/."""

from django.urls import path

from documents import views

urlpatterns = [
    path("<uuid:case_id>/files/", views.file_upload, name="file_upload"),
    path("<uuid:case_id>/files/<uuid:file_id>", views.file_open, name="file_open"),
    path("<uuid:case_id>/uploads/<uuid:action_id>", views.upload_open, name="upload_open"),
]
