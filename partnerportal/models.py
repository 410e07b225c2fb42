"""Agency-wide settings that administrators edit in Django admin."""

from __future__ import annotations

import string
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.template import Context, Engine, TemplateSyntaxError

DEFAULT_WELCOME_TEMPLATE = """Dear {{ creditor_name }},

Thank you for entrusting us with case {{ reference }} against {{ debtor_name }} ({{ principal }}).
We have started collection under our reference {{ agency_reference }} and will keep you informed \
of every step.

Kind regards,
{{ agent_name }}"""

DEFAULT_REFERENCE_PATTERN = "{year}-{seq:05d}"

# The only names a welcome template or reference pattern can use; kept in one place for the help texts.
WELCOME_FIELDS = (
    "reference",
    "creditor_name",
    "creditor_reference",
    "debtor_name",
    "principal",
    "currency",
    "agency_reference",
    "agent_name",
)
REFERENCE_FIELDS = ("year", "month", "seq", "reference")

# Plain text for an e-mail and a chat message: nothing is HTML-escaped, and no tag library
# beyond Django's built-ins is available to an administrator's template.
_TEXT_ENGINE = Engine(autoescape=False)


def _pattern_fields(pattern: str) -> set[str]:
    # Whole names, so "{reference.__class__}" is an unknown field, not attribute access.
    return {name for _, name, _, _ in string.Formatter().parse(pattern) if name}


class AgencySettings(models.Model):
    """The agency's defaults for accepting cases (one row, edited in Django admin)."""

    welcome_message_template = models.TextField(
        default=DEFAULT_WELCOME_TEMPLATE,
        help_text=(
            "Pre-fills the welcome message when an agent accepts a case (Django template syntax). "
            "Available: {{ reference }}, {{ creditor_name }}, {{ creditor_reference }}, "
            "{{ debtor_name }}, {{ principal }}, {{ currency }}, {{ agency_reference }}, {{ agent_name }}."
        ),
    )
    partner_reference_pattern = models.CharField(
        max_length=100,
        default=DEFAULT_REFERENCE_PATTERN,
        help_text=(
            "Suggests the agency reference when accepting (Python format syntax), e.g. "
            "{year}-{seq:05d} or AG-{reference}. Available: {year}, {month}, {seq}, {reference}; "
            "seq counts up until the reference is unused here."
        ),
    )

    class Meta:
        verbose_name = "agency settings"
        verbose_name_plural = "agency settings"

    def __str__(self) -> str:
        return "Agency settings"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.pk = 1  # a singleton: every save writes the one row
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> AgencySettings:
        """The settings row, created with the defaults the first time it is asked for."""
        settings, _ = cls.objects.get_or_create(pk=1)
        return settings

    def clean(self) -> None:
        errors: dict[str, str] = {}
        try:
            self.welcome_render({name: name for name in WELCOME_FIELDS})
        except TemplateSyntaxError as exc:
            errors["welcome_message_template"] = f"Not a valid template: {exc}"
        try:
            unknown = _pattern_fields(self.partner_reference_pattern) - set(REFERENCE_FIELDS)
        except ValueError as exc:
            raise ValidationError(
                {**errors, "partner_reference_pattern": f"Not a valid pattern: {exc}"}
            ) from None
        if unknown:
            errors["partner_reference_pattern"] = f"Unknown field(s): {', '.join(sorted(unknown))}."
        else:
            try:
                self.reference_render(seq=1, reference="Q8OAXF3W", today=date(2025, 1, 1))
            except (ValueError, IndexError, KeyError) as exc:
                errors["partner_reference_pattern"] = f"Not a valid pattern: {exc}"
            if not unknown and not _pattern_fields(self.partner_reference_pattern) & {"seq", "reference"}:
                errors["partner_reference_pattern"] = "Needs {seq} or {reference}: else every case gets one."
        if errors:
            raise ValidationError(errors)

    def welcome_render(self, values: dict[str, str]) -> str:
        """The welcome message for one case; `values` are the WELCOME_FIELDS."""
        return (
            _TEXT_ENGINE.from_string(self.welcome_message_template)
            .render(Context(values, autoescape=False))
            .strip()
        )

    def reference_render(self, *, seq: int, reference: str, today: date) -> str:
        """One candidate agency reference."""
        # Only plain names reach format(): clean() refused attribute and index access.
        return self.partner_reference_pattern.format(
            year=today.year, month=f"{today.month:02d}", seq=seq, reference=reference
        )
