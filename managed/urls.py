from django.urls import path

from managed import views

app_name = "managed"

urlpatterns = [
    path("", views.managed_list, name="list"),
    path("new/", views.managed_submit, name="submit"),
    path("<uuid:pk>/", views.managed_detail, name="detail"),
]
