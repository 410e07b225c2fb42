"""The dashboard's URL: the site's root, named "dashboard" (LOGIN_REDIRECT_URL points at it)."""

from django.urls import path

from dashboard import views

urlpatterns = [path("", views.dashboard, name="dashboard")]
