"""The first import's progress, shown where data that is still arriving is missing."""

from __future__ import annotations

from typing import Any

from django import template

from cases.sync import children_progress

register = template.Library()


@register.inclusion_tag("cases/_children_progress_notice.html")
def children_progress_notice(where: str = "") -> dict[str, Any]:
    """A notice while case details (timelines, chat, payments, files) are still being fetched."""
    return {"progress": children_progress(), "where": where}
