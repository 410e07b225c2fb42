"""The bulk note's pages: who may post, which ticked cases are skipped and why, the confirmation,
errors next to their field with nothing written, the job's page and the case page's section."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bulknotes.actions import bulk_note_post, bulk_note_targets
from bulknotes.models import BulkNote, BulkNoteCase
from cases.actions import case_close
from outbox.models import OutboxAction
from tests.bulknotes.conftest import TEXT

pytestmark = pytest.mark.django_db

NEW = reverse("bulknotes:new")


def _post(client, cases, **data):
    return client.post(NEW, {"case": [str(c.pk) for c in cases], "next": "tab=active", **data})


def _nothing_written():
    return not BulkNote.objects.exists() and not OutboxAction.objects.exists()


def test_the_form_says_which_ticked_cases_get_the_note_and_why_the_others_are_skipped(
    agent_client, three_active, cases_by_lifecycle
):
    pending = cases_by_lifecycle("PendingVerification")[0]
    closed = cases_by_lifecycle("Closed")[0]

    response = _post(agent_client, [*three_active, pending, closed])

    assert response.status_code == 200
    page = response.content.decode()
    assert "3 Active cases will get the note; 2 skipped" in page
    assert "Not Active: the case is Pending Verification." in page
    assert "Not Active: the case is Closed." in page
    assert 'name="text"' in page


def test_a_case_with_a_close_on_its_way_is_skipped(team_agent, three_active):
    case_close(case=three_active[0], actor=team_agent, close_code="UneconomicalToPursue")

    targets = bulk_note_targets(case_ids=[c.pk for c in three_active])

    assert {c.pk for c in targets.cases} == {c.pk for c in three_active[1:]}
    assert [s.reason for s in targets.skipped] == [
        "Not Active: the case is Closed once the portal's pending action is through."
    ]


def test_review_then_send_writes_one_bulk_note_for_the_active_cases_only(
    agent_client, three_active, cases_by_lifecycle, queued_relays, django_capture_on_commit_callbacks
):
    closed = cases_by_lifecycle("Closed")[0]
    ticked = [*three_active, closed]

    review = _post(agent_client, ticked, step="review", text=TEXT, event_date="", token="tok-1")
    assert review.status_code == 200
    assert "Post this note to 3 cases?" in review.content.decode()
    assert _nothing_written()

    with django_capture_on_commit_callbacks(execute=True):
        sent = _post(agent_client, ticked, step="send", text=TEXT, event_date="", token="tok-1")

    assert sent.status_code == 302
    assert sent["Location"] == f"{reverse('cases:list')}?tab=active"
    bulk = BulkNote.objects.get()
    assert bulk.text == TEXT
    assert {row.case_id for row in bulk.cases.all()} == {c.pk for c in three_active}
    assert OutboxAction.objects.get().kind == OutboxAction.Kind.BULK_NOTE
    assert queued_relays.ids == [str(bulk.action_id)]
    message = agent_client.get(sent["Location"]).content.decode()
    assert f'href="{reverse("bulknotes:detail", args=[bulk.pk])}"' in message


def test_sending_the_same_form_twice_posts_once(agent_client, three_active, queued_relays):
    for _ in range(2):
        _post(agent_client, three_active, step="send", text=TEXT, event_date="", token="tok-twice")

    assert BulkNote.objects.count() == 1
    assert OutboxAction.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"text": "   "}, "text", "This field is required."),
        ({"text": "x" * 2001}, "text", "Ensure this value has at most 2000 characters"),
        (
            {"event_date": (timezone.localdate() + timedelta(days=1)).isoformat()},
            "event_date",
            "Cannot be in the future.",
        ),
    ],
)
def test_a_bad_note_is_refused_next_to_its_field_with_nothing_written(
    agent_client, three_active, data, field, error
):
    values = {"step": "send", "text": TEXT, "event_date": "", "token": "tok-bad", **data}

    response = _post(agent_client, three_active, **values)

    assert response.status_code == 400
    page = response.content.decode()
    feedback = page[page.index(f'id="bulk_{field}-feedback"') :]
    assert error in feedback[: feedback.index("</div>")]
    assert _nothing_written()


def test_only_non_active_cases_ticked_is_refused(agent_client, cases_by_lifecycle):
    closed = cases_by_lifecycle("Closed")[:2]

    response = _post(agent_client, closed, step="send", text=TEXT, event_date="", token="tok-none")

    assert response.status_code == 400
    assert "None of the ticked cases is Active" in response.content.decode()
    assert _nothing_written()


def test_a_viewer_may_not_post_a_bulk_note_nor_tick_cases(client, viewer, three_active):
    client.force_login(viewer)

    assert _post(client, three_active, step="send", text=TEXT, token="tok-v").status_code == 403
    assert 'name="case"' not in client.get(reverse("cases:list")).content.decode()
    assert _nothing_written()


def test_an_agent_ticks_cases_and_finds_the_bulk_note_button_but_not_reassign(agent_client, three_active):
    page = agent_client.get(reverse("cases:list")).content.decode()

    assert 'name="case"' in page
    assert f'formaction="{NEW}"' in page
    assert 'name="assignee"' not in page


def test_signed_out_is_sent_to_sign_in(client, three_active):
    response = _post(client, three_active, step="send", text=TEXT, token="tok-anon")

    assert response.status_code == 302
    assert reverse("login") in response["Location"]
    assert _nothing_written()


def test_the_job_page_polls_until_final_and_shows_each_case(agent_client, agent, three_active, queued_relays):
    bulk = bulk_note_post(actor=agent, case_ids=[c.pk for c in three_active], text=TEXT)
    url = reverse("bulknotes:detail", args=[bulk.pk])

    page = agent_client.get(url).content.decode()
    assert "Sending the job to Debitura" in page
    assert 'hx-trigger="every 2s"' in page
    for case in three_active:
        assert case.reference in page

    BulkNote.objects.filter(pk=bulk.pk).update(state=BulkNote.State.COMPLETED)
    BulkNoteCase.objects.filter(case=three_active[0]).update(
        state="failed", reason="The case is Closed at Debitura now, and takes no notes."
    )
    BulkNoteCase.objects.exclude(case=three_active[0]).update(state="done")
    partial = agent_client.get(url, headers={"HX-Request": "true"}).content.decode()

    assert partial.lstrip().startswith('<section id="bulk-progress"')
    assert "hx-trigger" not in partial
    assert "2 of 3 cases got the note; 1 did not." in partial
    assert "takes no notes" in partial


def test_the_case_page_shows_the_bulk_note_pending_at_once(agent_client, agent, three_active, queued_relays):
    bulk = bulk_note_post(actor=agent, case_ids=[c.pk for c in three_active], text=TEXT)

    page = agent_client.get(reverse("cases:detail", args=[three_active[2].pk])).content.decode()

    section = page[page.index('id="case-bulk-notes"') :]
    assert "Pending" in section
    assert TEXT in section
    assert reverse("bulknotes:detail", args=[bulk.pk]) in section
