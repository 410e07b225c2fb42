from django.urls import path

from bulknotes import views

app_name = "bulknotes"

urlpatterns = [
    path("new", views.bulk_note_new, name="new"),
    path("<int:bulk_id>/", views.bulk_note_detail, name="detail"),
]
