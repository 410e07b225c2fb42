"""Queueing a relay run by its Celery task's name: the task module (outbox.tasks) imports the
relay, so the relay's modules cannot import the task."""

from __future__ import annotations

from celery import current_app

# The name messages already queued carry: never rename it.
RELAY_TASK = "cases.relay_outbox"


def relay_queue(action_id: str | None, *, countdown: float | None = None) -> None:
    """Queue a relay run (that row first, when an id is given; after `countdown` seconds)."""
    # A signature by name goes through the registered task (its routing, and a test's stand-in)
    # when this process has loaded it, and straight to the broker otherwise.
    relay = current_app.signature(RELAY_TASK, args=(action_id,))
    if countdown:
        relay.apply_async(countdown=countdown)
    else:
        relay.apply_async()
