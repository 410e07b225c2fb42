"""Agency-wide settings that administrators edit in Django admin."""

from __future__ import annotations

import re
import string
from datetime import date
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

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

# Debitura's limits: welcomeMessage at most 5000 characters, collectionPartnerReference 128.
WELCOME_MAX_LENGTH = 5000
REFERENCE_MAX_LENGTH = 128
# No width or precision in a reference pattern above this ({seq:05d} needs 5).
REFERENCE_MAX_WIDTH = 20

# A welcome template is text with {{ name }} placeholders and nothing else: no tags, no filters,
# no attribute access, so what an administrator saves can only ever put the case's values in.
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
# What would have been template syntax (a tag, a filtered variable, a comment), once the
# placeholders are taken out; then any stray delimiter.
_TEMPLATE_SYNTAX = re.compile(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}|\{[{%#]|[}%#]\}", re.DOTALL)


def welcome_template_errors(template: str) -> list[str]:
    """What stops `template` from being a welcome template (empty when nothing does)."""
    errors = []
    unknown = sorted({name for name in _PLACEHOLDER.findall(template) if name not in WELCOME_FIELDS})
    if unknown:
        errors.append(f"Unknown placeholder(s): {', '.join(unknown)}.")
    syntax = list(dict.fromkeys(_TEMPLATE_SYNTAX.findall(_PLACEHOLDER.sub("", template))))
    if syntax:
        shown = ", ".join(snippet if len(snippet) <= 40 else snippet[:37] + "..." for snippet in syntax[:3])
        errors.append(
            f"Only placeholders such as {{{{ reference }}}} are filled in (no tags, filters or "
            f"comments); remove {shown}."
        )
    return errors


@lru_cache(maxsize=32)
def reference_pattern_errors(pattern: str) -> tuple[str, ...]:
    """What stops `pattern` from being a reference pattern, before anything is formatted with it."""
    try:
        fields = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        return (f"Not a valid pattern: {exc}.",)
    errors = []
    # Whole names, so "{reference.__class__}" is an unknown field, not attribute access.
    names = {name for _, name, _, _ in fields if name is not None}
    unknown = names - set(REFERENCE_FIELDS)
    if unknown:
        errors.append(f"Unknown field(s): {', '.join('{' + name + '}' for name in sorted(unknown))}.")
    elif not names & {"seq", "reference"}:
        errors.append("Needs {seq} or {reference}: else every case gets the same reference.")
    for _, name, spec, _ in fields:
        if spec and "{" in spec:
            errors.append(f"{{{name}}}: no fields inside a format.")
        elif spec and max((int(n) for n in re.findall(r"\d+", spec)), default=0) > REFERENCE_MAX_WIDTH:
            errors.append(f"{{{name}:{spec}}}: widths above {REFERENCE_MAX_WIDTH} are not allowed.")
    return tuple(errors)


class AgencySettings(models.Model):
    """The agency's defaults for accepting cases (one row, edited in Django admin)."""

    welcome_message_template = models.TextField(
        default=DEFAULT_WELCOME_TEMPLATE,
        max_length=WELCOME_MAX_LENGTH,
        help_text=(
            "Pre-fills the welcome message when an agent accepts a case: text with placeholders, "
            "nothing else (no template tags or filters). Available: {{ reference }}, "
            "{{ creditor_name }}, {{ creditor_reference }}, {{ debtor_name }}, {{ principal }}, "
            "{{ currency }}, {{ agency_reference }}, {{ agent_name }}."
        ),
    )
    partner_reference_pattern = models.CharField(
        max_length=100,
        default=DEFAULT_REFERENCE_PATTERN,
        help_text=(
            "Suggests the agency reference when accepting (Python format syntax), e.g. "
            "{year}-{seq:05d} or AG-{reference}. Available: {year}, {month}, {seq}, {reference}; "
            "seq counts up until the reference is unused here. Widths up to 20; the reference "
            "may be 128 characters long."
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
        errors: dict[str, list[str]] = {}
        if problems := welcome_template_errors(self.welcome_message_template):
            errors["welcome_message_template"] = problems
        problems = list(reference_pattern_errors(self.partner_reference_pattern))
        if not problems:
            try:
                # The longest a reference can come out: a seq of 10 digits, a long case reference.
                longest = self.reference_render(seq=10**9, reference="X" * 20, today=date(2025, 12, 31))
            except (ValueError, IndexError, KeyError) as exc:
                problems.append(f"Not a valid pattern: {exc}")
            else:
                if len(longest) > REFERENCE_MAX_LENGTH:
                    problems.append(
                        f"Makes references longer than Debitura's {REFERENCE_MAX_LENGTH} characters."
                    )
        if problems:
            errors["partner_reference_pattern"] = problems
        if errors:
            raise ValidationError(errors)

    def welcome_render(self, values: dict[str, str]) -> str:
        """The welcome message for one case; `values` are the WELCOME_FIELDS.

        Only placeholders are filled in; anything else in the template (tags saved before templates
        were checked) stays as written, for the agent to see and edit.
        """
        filled = _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), self.welcome_message_template)
        return filled.strip()

    def reference_render(self, *, seq: int, reference: str, today: date) -> str:
        """One candidate agency reference; ValueError for a pattern clean() would refuse."""
        if problems := reference_pattern_errors(self.partner_reference_pattern):
            raise ValueError(problems[0])
        return self.partner_reference_pattern.format(
            year=today.year, month=f"{today.month:02d}", seq=seq, reference=reference
        )
