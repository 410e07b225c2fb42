"""The morning digest: only to users who asked, only their due and overdue tasks, nothing when
there are none, once a day however often beat fires; the switch on the inbox page.

E-mails go to Django's locmem backend (mail.outbox), as the test settings have it.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import UserPreference
from accounts.roles import AGENT, VIEWER
from tests.fixtures.factories import CaseFactory, TaskFactory
from worklist.digest import digest_send, digests_send
from worklist.tasks import digest

pytestmark = pytest.mark.django_db

# 07:00 in the portal's time zone, the beat's default hour.
MORNING = timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=1), time(7)))


def task_for(user: Any, *, due: datetime, **kwargs: Any) -> Any:
    case = CaseFactory(assigned_to=user, debtor_name=kwargs.pop("debtor", "Debtor Ltd"))
    return TaskFactory(case=case, assignee=user, due_at=due, **kwargs)


def opted_in(user: Any) -> Any:
    UserPreference.objects.create(user=user, digest=True)
    return user


def test_an_opted_in_agent_gets_their_due_and_overdue_tasks_only(agent, make_user, settings):
    settings.PORTAL_BASE_URL = "https://portal.agency.example"
    opted_in(agent)
    overdue = task_for(agent, due=MORNING - timedelta(days=2), kind="reply_creditor", action="Reply")
    today = task_for(agent, due=MORNING + timedelta(hours=5), kind="progress_update", action="Post a note")
    later = task_for(agent, due=MORNING + timedelta(days=3))  # not due yet
    colleague = make_user(username="colleague", role=AGENT)
    theirs = task_for(colleague, due=MORNING - timedelta(days=1))  # not opted in, not theirs
    unassigned = task_for(None, due=MORNING - timedelta(days=1))

    assert digests_send(now=MORNING) == 1

    (message,) = mail.outbox
    assert message.to == [agent.email]
    assert message.subject == "My work: 1 overdue, 1 due today"
    text = message.body
    for shown in (overdue, today):
        assert shown.case.reference in text
        assert f"https://portal.agency.example{shown.url}" in text
    for hidden in (later, theirs, unassigned):
        assert hidden.case.reference not in text
    assert text.index(overdue.case.reference) < text.index(today.case.reference)  # nearest first
    assert "OVERDUE Reply to the creditor" in text
    assert "All your tasks: https://portal.agency.example/work/" in text
    html, kind = message.alternatives[0]
    assert kind == "text/html"
    assert f'href="https://portal.agency.example{overdue.url}"' in html


def test_the_bodies_are_escaped_as_html_and_left_alone_as_text_and_have_no_links_without_a_base_url(
    agent, settings
):
    settings.PORTAL_BASE_URL = ""
    opted_in(agent)
    task_for(agent, due=MORNING - timedelta(hours=1), reason='The creditor wrote: "<b>Pay</b> & go"')

    digests_send(now=MORNING)

    (message,) = mail.outbox
    assert 'The creditor wrote: "<b>Pay</b> & go"' in message.body
    html = message.alternatives[0][0]
    assert "&lt;b&gt;Pay&lt;/b&gt; &amp; go" in html
    assert "<b>Pay" not in html
    assert "http" not in message.body
    assert "href" not in html


def test_nobody_who_did_not_opt_in_or_has_nothing_due_gets_one(agent, make_user):
    task_for(agent, due=MORNING - timedelta(days=1))  # agent did not opt in
    idle = opted_in(make_user(username="idle", role=AGENT))
    task_for(idle, due=MORNING + timedelta(days=2))  # nothing due today
    off = make_user(username="off", role=AGENT)
    UserPreference.objects.create(user=off, digest=False)
    task_for(off, due=MORNING - timedelta(days=1))
    viewer = opted_in(make_user(username="reader", role=VIEWER))  # no longer works cases
    task_for(viewer, due=MORNING - timedelta(days=1))

    assert digests_send(now=MORNING) == 0
    assert mail.outbox == []
    # Nothing was sent, so nothing is claimed: a task due later today still gets its e-mail.
    assert UserPreference.objects.get(user=idle).digest_sent_on is None


def test_a_second_run_the_same_day_sends_nothing_and_the_next_day_sends_again(agent):
    opted_in(agent)
    task_for(agent, due=MORNING - timedelta(days=1))

    assert digests_send(now=MORNING) == 1
    assert digests_send(now=MORNING + timedelta(minutes=1)) == 0  # beat fired twice
    # A second worker that read the user before the first claimed the day: the claim refuses it.
    assert digest_send(user=agent, now=MORNING + timedelta(hours=2)) is False
    assert len(mail.outbox) == 1
    assert UserPreference.objects.get(user=agent).digest_sent_on == MORNING.date()

    assert digests_send(now=MORNING + timedelta(days=1)) == 1
    assert len(mail.outbox) == 2


def test_a_failed_send_gives_the_day_back(agent, monkeypatch):
    opted_in(agent)
    task_for(agent, due=MORNING - timedelta(days=1))

    def refuse(*args: Any, **kwargs: Any) -> int:
        raise ConnectionRefusedError("SMTP down")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    assert digests_send(now=MORNING) == 0
    assert UserPreference.objects.get(user=agent).digest_sent_on is None

    monkeypatch.undo()
    assert digests_send(now=MORNING + timedelta(hours=1)) == 1


def test_the_beat_task_sends_them(agent):
    opted_in(agent)
    task_for(agent, due=timezone.now() - timedelta(hours=1))

    digest.apply()

    assert len(mail.outbox) == 1


def test_the_digest_is_at_the_configured_hour_in_the_portal_time_zone(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["worklist-digest"]
    assert schedule["task"] == "worklist.digest"
    assert schedule["schedule"].hour == {settings.DIGEST_HOUR}
    assert settings.CELERY_TIMEZONE == settings.TIME_ZONE


def test_an_agent_turns_the_digest_on_and_off_on_the_inbox_page(client, agent):
    client.force_login(agent)
    inbox = client.get(reverse("worklist:inbox"))
    assert b"E-mail me every morning" in inbox.content

    response = client.post(reverse("worklist:digest"), {"digest": "on"}, follow=True)
    assert UserPreference.objects.get(user=agent).digest is True
    assert b"Stop the morning e-mail" in response.content
    assert b"You will get a morning e-mail" in response.content

    # Back to the inbox as it was filtered, at the switch.
    response = client.post(reverse("worklist:digest"), {"digest": "off", "next": "kind=promise_due"})
    assert response.url == reverse("worklist:inbox") + "?kind=promise_due#digest"
    assert UserPreference.objects.get(user=agent).digest is False


def test_without_an_e_mail_address_the_digest_cannot_be_turned_on(client, make_user):
    user = make_user(username="nomail", email="", role=AGENT)
    client.force_login(user)
    assert b"needs an e-mail address" in client.get(reverse("worklist:inbox")).content

    client.post(reverse("worklist:digest"), {"digest": "on"})
    assert not UserPreference.objects.filter(user=user, digest=True).exists()


def test_a_viewer_cannot_turn_it_on(client, viewer):
    client.force_login(viewer)
    assert client.post(reverse("worklist:digest"), {"digest": "on"}).status_code == 403
