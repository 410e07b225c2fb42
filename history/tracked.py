"""Which models keep a history of their local changes, and the hook to add one.

Debitura keeps what happens to a case at Debitura; what the portal alone changes (who a case is
assigned to, the agency reference where it is set here, the agency settings) it never sees, so
the portal keeps that history with django-simple-history. Each entry of TRACKED gets a historical
model in this app (history_historicalcase ...), holding the tracked columns only: the synced ones
are excluded, so a sync that rewrites a case has nothing to record.

How a model's changes are recorded:
- on every save() (simple-history's post_save, with the acting user from its
  HistoryRequestMiddleware or the instance's `_history_user`) when `on_save` is set: the agency
  settings, which Django admin saves;
- explicitly otherwise: the case, whose rows the sync writes in bulk (cases.bulk, no signals) and
  whose local columns change through queryset.update() (cases.reassign, cases.references). Those
  services send cases.events.cases_changed_locally and history.recording writes the rows with the
  historical model's bulk_history_create, one per case.

The hook for another app (the worklist's task reassignment, promises): add a Tracked entry here
naming its model by label, keep "history" after that app in INSTALLED_APPS (models are looked up
as this module loads; an app that is not installed is skipped), run makemigrations history. Give
`case_field` for its changes to show on the case's History tab. If it writes with
queryset.update(), it sends a signal of its own (as cases.events does) and a receiver in
history.receivers records the rows with history_model(label).objects.bulk_history_create(...).
The app never imports history: history sits above it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models
from simple_history import register
from simple_history.models import HistoricalRecords


@dataclass(frozen=True)
class Tracked:
    """A model whose local changes are kept: which fields, in which words, on which case."""

    label: str  # "app_label.ModelName"
    fields: tuple[str, ...] | None = None  # the fields kept (names); None: every field
    words: dict[str, str] = field(default_factory=dict)  # a field's name for people ("Assignee")
    empty: dict[str, str] = field(default_factory=dict)  # what an empty value is called ("nobody")
    case_field: str = ""  # the attname holding the case's id ("id" for the case); "": on no case's tab
    on_save: bool = True  # record each save(); False: only what services record explicitly


TRACKED: tuple[Tracked, ...] = (
    Tracked(
        "cases.Case",
        fields=("assigned_to", "partner_reference"),
        words={"assigned_to": "Assignee", "partner_reference": "Agency reference"},
        empty={"assigned_to": "nobody", "partner_reference": "none"},
        case_field="id",
        on_save=False,
    ),
    Tracked(
        "partnerportal.AgencySettings",
        words={
            "welcome_message_template": "Welcome message template",
            "partner_reference_pattern": "Agency reference pattern",
        },
    ),
)


class ExplicitRecords(HistoricalRecords):
    """simple-history's records without the save and delete hooks: rows come from services only.

    A case is never saved through the ORM outside tests (the sync upserts, admin is read-only),
    and a test's factory creating one is no local change.
    """

    def post_save(self, instance: Any, created: bool, using: Any = None, **kwargs: Any) -> None:
        return None

    def post_delete(self, instance: Any, using: Any = None, **kwargs: Any) -> None:
        return None


_HISTORY: dict[str, tuple[Tracked, type[models.Model]]] = {}


def history_track(tracked: Tracked) -> type[models.Model] | None:
    """Create `tracked`'s historical model in this app; None when its app is not installed."""
    app_label, model_name = tracked.label.split(".")
    try:
        model = apps.get_registered_model(app_label, model_name)
    except LookupError:
        return None
    kept = set(tracked.fields) if tracked.fields is not None else None
    excluded = [
        f.name
        for f in model._meta.concrete_fields
        if kept is not None and not f.primary_key and f.name not in kept
    ]
    register(
        model,
        app="history",
        records_class=HistoricalRecords if tracked.on_save else ExplicitRecords,
        excluded_fields=excluded,
        # Who changed it stays readable if the user is deleted; the row is kept either way.
        user_related_name="+",
        verbose_name=f"history of {model._meta.verbose_name}",
        verbose_name_plural=f"history of {model._meta.verbose_name_plural}",
    )
    history = model.history.model  # type: ignore[attr-defined]
    _HISTORY[tracked.label] = (tracked, history)
    return history


def history_model(label: str) -> type[models.Model]:
    """The historical model of a tracked model ("cases.Case"); KeyError if it is not tracked."""
    return _HISTORY[label][1]


def history_manager(label: str) -> Any:
    """simple-history's manager of every row of a tracked model (its bulk_history_create ...)."""
    return history_model(label).instance_type.history  # type: ignore[attr-defined]


def history_tracked() -> list[tuple[Tracked, type[models.Model]]]:
    """Every tracked model's entry and historical model, in TRACKED's order."""
    return list(_HISTORY.values())
