from django.urls import path

from cases import views, views_list

app_name = "cases"

urlpatterns = [
    path("", views_list.case_list, name="list"),
    path("lookup/", views_list.case_lookup, name="lookup"),
    path("reassign/", views_list.cases_reassign_view, name="reassign"),
    path("views/", views_list.saved_views, name="saved_views"),
    path("views/<int:view_id>/delete", views_list.saved_view_delete, name="saved_view_delete"),
    path("<uuid:case_id>/", views.case_detail, name="detail"),
    path("<uuid:case_id>/children", views.case_children, name="children"),
]
