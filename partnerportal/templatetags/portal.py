"""Template filters: money as agents read it (the rules: partnerportal/money.py) and safe links
from Debitura's data."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import template
from django.conf import settings

from partnerportal.money import money_text

register = template.Library()

# The money rules live in partnerportal/money.py; `money` stays importable here for the tests
# that compare a page with what the filter draws.
money = register.filter("money", money_text)


def external_url(url: Any) -> str:
    """A URL that came from Debitura, if it may become a link: https only (plain http too under
    DEBUG, for the emulator); anything else ("javascript:", "data:", relative) is ""."""
    text = str(url or "").strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return ""
    allowed = {"https", "http"} if settings.DEBUG else {"https"}
    return text if parts.scheme.lower() in allowed and parts.netloc else ""


register.filter("external_url", external_url)
