"""Portal-wide permissions (roles are built from them in accounts.roles) and per-user preferences."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Capability(models.Model):
    """Holder of the portal's own permissions; it has no table and no rows."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_cases", "Can view cases assigned to the agency"),
            ("work_cases", "Can act on cases (accept, close, notes, chat, payments, files)"),
            ("view_all_cases", "Can see every agent's work"),
            ("reassign_cases", "Can reassign cases between agents"),
            ("export_data", "Can export case and payment lists"),
            ("submit_cases", "Can submit cases to Debitura's network as managing partner"),
        ]

    def __str__(self) -> str:
        return "Portal capabilities"


def time_zone_choices() -> list[tuple[str, str]]:
    import zoneinfo

    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class UserPreference(models.Model):
    """A user's preferences; dates are shown in `time_zone` (blank: the portal's TIME_ZONE)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    time_zone = models.CharField(max_length=64, blank=True, choices=time_zone_choices)
    digest = models.BooleanField(
        "morning digest",
        default=False,
        help_text="E-mail the user their due and overdue tasks every morning (worklist.digest).",
    )
    # Claimed with a conditional UPDATE before a digest is sent: one e-mail a day however often
    # beat fires and however many workers run it.
    digest_sent_on = models.DateField(null=True, blank=True, editable=False)

    def __str__(self) -> str:
        return f"{self.user}: {self.time_zone or 'default time zone'}"


class SavedView(models.Model):
    """A user's named case-list view: the list's query string, replayed as a link."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=2000, blank=True, help_text="The list URL's query string.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_view_user_name")]

    def __str__(self) -> str:
        return self.name
