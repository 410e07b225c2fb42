from django.urls import path

from cases import views

app_name = "cases"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("<uuid:case_id>/", views.case_detail, name="detail"),
    path("<uuid:case_id>/children", views.case_children, name="children"),
]
