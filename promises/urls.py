from django.urls import path

from promises import views

app_name = "promises"

urlpatterns = [
    path("<int:promise_id>/", views.promise_detail, name="detail"),
    path("<int:promise_id>/change", views.promise_change_view, name="change"),
    path("<int:promise_id>/cancel", views.promise_cancel_view, name="cancel"),
    path("cases/<uuid:case_id>/record", views.promise_record_view, name="record"),
]
