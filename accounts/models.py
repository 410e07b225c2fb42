"""Portal-wide permissions; roles (groups) are built from them in accounts.roles."""

from django.db import models


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
        ]

    def __str__(self) -> str:
        return "Portal capabilities"
