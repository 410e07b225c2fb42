"""Template filters of the dashboard's figures."""

from __future__ import annotations

from django import template

from dashboard.figures import hours_text

register = template.Library()
register.filter("hours", hours_text)
