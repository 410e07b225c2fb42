"""Users' preferences and saved views in Django admin."""

from django.contrib import admin

from accounts.models import SavedView, UserPreference


@admin.register(UserPreference)
class UserPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "time_zone", "digest", "digest_sent_on"]
    list_filter = ["digest"]
    readonly_fields = ["digest_sent_on"]
    search_fields = ["user__username", "user__email"]


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "query", "created_at"]
    list_filter = ["user"]
    search_fields = ["name", "user__username"]
