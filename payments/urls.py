from django.urls import path

from payments import views

app_name = "payments"

urlpatterns = [
    path("", views.ledger, name="ledger"),
    path("export.csv", views.ledger_csv, name="export"),
    path("<int:payment_id>/", views.payment_detail, name="detail"),
    path("<int:payment_id>/correct", views.payment_correct_view, name="correct"),
    path("<int:payment_id>/delete", views.payment_delete_view, name="delete"),
    path("<int:payment_id>/consent", views.payment_consent_view, name="consent"),
    path("cases/<uuid:case_id>/record", views.payment_record_view, name="record"),
    path("cases/<uuid:case_id>/preview", views.payment_preview, name="preview"),
]
