"""Payments in Django admin: confirmed ones mirror Debitura and are read-only like cases."""

from django.contrib import admin

from partnerportal.admin import ReadOnlyAdmin
from payments.models import Payment


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("date", "case", "amount", "currency", "recipient", "state", "invoice_status", "remote_id")
    list_filter = ("state", "currency", "recipient", "invoice_status", "commission_status")
    search_fields = ("case__reference", "case__partner_reference", "remote_id")
    date_hierarchy = "date"
    list_select_related = ("case",)
