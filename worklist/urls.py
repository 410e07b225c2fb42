from django.urls import path

from worklist import views

app_name = "worklist"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("reassign", views.inbox_reassign, name="reassign"),
    path("digest", views.digest_toggle, name="digest"),
    path("nav", views.nav_work, name="nav"),
]
