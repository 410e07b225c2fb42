from django.urls import path

from history import views

app_name = "history"

urlpatterns = [
    path("<uuid:case_id>/history/", views.case_history, name="case"),
    path("<uuid:case_id>/history/csv", views.case_history_csv, name="case_csv"),
]
