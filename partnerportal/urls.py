"""The portal's URLs; each area adds its own include."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts.forms import SignInForm
from cases.views_sync import sync_badge
from cases.views_webhooks import debitura_webhook
from partnerportal import views
from partnerportal.admin import view_on_site

admin.site.site_header = "Partner Portal administration"
admin.site.site_title = "Partner Portal admin"

urlpatterns = [
    path("", include("dashboard.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("sync/status", sync_badge, name="sync_badge"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            template_name="registration/login.html",
            authentication_form=SignInForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("cases/", include("cases.urls")),
    path("cases/", include("history.urls")),  # a case's History tab: cases/<id>/history/
    path("payments/", include("payments.urls")),
    path("promises/", include("promises.urls")),
    path("submitted/", include("managed.urls")),
    path("exports/", include("exports.urls")),
    path("work/", include("worklist.urls")),
    path("bulk-notes/", include("bulknotes.urls")),
    path("webhooks/debitura/", debitura_webhook, name="debitura_webhook"),
    # Ahead of admin.site.urls, whose own "view on site" it replaces (see partnerportal.admin).
    path(
        "admin/r/<str:content_type_id>/<path:object_id>/",
        admin.site.admin_view(view_on_site),
        name="admin_view_on_site",
    ),
    path("admin/", admin.site.urls),
]
