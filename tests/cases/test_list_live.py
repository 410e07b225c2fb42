"""The case list's live check: the rows on screen are asked about every few seconds and drawn again,
out of band, only when what they show changed."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from cases.live import LIST_ROW_COLUMNS, case_row_stamp, case_row_stamps
from cases.models import Case, LifecycleChoices
from tests.fixtures.case_list import LIST, make_cases

pytestmark = pytest.mark.django_db
LIVE = "/cases/live"


def row_of(html: str, case: Case) -> str:
    start = html.index(f'<tr id="case-row-{case.id}"')
    return html[start : html.index("</tr>", start)]


def poller(html: str) -> str:
    """The URL the list's poller asks."""
    found = re.search(r'<div id="list-live" hidden[^>]* hx-get="([^"]+)"', html)
    assert found, "no poller"
    return found.group(1).replace("&amp;", "&")


# --- The live check ---------------------------------------------------------------------------


def test_the_list_asks_about_exactly_its_rows_and_the_answer_is_204_while_nothing_changed(
    agent_client, django_assert_num_queries
):
    cases = make_cases(25)
    html = agent_client.get(LIST).content.decode()
    url = poller(html)
    assert url.startswith(f"{LIVE}?ids=")
    assert re.search(r"ids=([0-9a-f,]+)", url).group(1).split(",") == [c.pk.hex for c in cases]
    # The session, the user, the user's and the groups' permissions, then one query for the rows.
    with django_assert_num_queries(5):
        response = agent_client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert not response.content


def test_a_changed_row_comes_back_out_of_band_with_a_new_stamp_in_a_few_queries(
    agent_client, django_assert_num_queries
):
    cases = make_cases(25)
    url = poller(agent_client.get(LIST).content.decode())
    Case.objects.filter(pk=cases[3].pk).update(unread_messages=2)
    # Then the rows with their assignees, nothing per row.
    with django_assert_num_queries(6):
        response = agent_client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert response.headers["HX-Trigger"] == '{"case-changed": {}}'  # the navigation's count follows
    assert html.count('hx-swap-oob="true"') == 25
    assert html.index('<div id="list-live"') < html.index("<template>") < html.index("<tr ")
    assert "✉ 2" in row_of(html, cases[3])
    again = poller(html)
    assert again != url
    assert agent_client.get(again, headers={"HX-Request": "true"}).status_code == 204


def test_the_poll_costs_the_same_few_queries_for_a_hundred_rows(agent_client, django_assert_num_queries):
    cases = make_cases(100)
    url = poller(agent_client.get(LIST, {"size": 100}).content.decode())
    with django_assert_num_queries(5):
        assert agent_client.get(url).status_code == 204
    Case.objects.filter(pk=cases[50].pk).update(remainder=Decimal("1.00"))
    with django_assert_num_queries(6):
        assert agent_client.get(url).status_code == 200


def test_a_row_keeps_its_tick_box_for_a_supervisor_and_the_viewer_may_ask_too(client, supervisor, viewer):
    (case,) = make_cases(1)
    client.force_login(supervisor)
    url = poller(client.get(LIST).content.decode())
    Case.objects.filter(pk=case.pk).update(lifecycle=LifecycleChoices.PAUSED)
    row = row_of(client.get(url).content.decode(), case)
    assert f'id="pick-{case.id}" hx-preserve' in row
    assert "Paused" in row
    client.force_login(viewer)
    html = client.get(url).content.decode()
    assert 'name="case"' not in html
    assert "Paused" in html


@pytest.mark.parametrize(
    "ids",
    ["", "not-hex", ",".join(uuid.uuid4().hex for _ in range(101))],
    ids=["none", "not an id", "more than a page"],
)
def test_a_bad_question_is_a_400(agent_client, ids):
    assert agent_client.get(LIVE, {"ids": ids, "v": "x"}).status_code == 400


def test_a_case_gone_from_the_table_does_not_make_the_rows_redraw_forever(agent_client):
    cases = make_cases(3)
    url = poller(agent_client.get(LIST).content.decode())
    Case.objects.filter(pk=cases[1].pk).delete()
    html = agent_client.get(url).content.decode()
    assert html.count("<tr ") == 2
    assert agent_client.get(poller(html)).status_code == 204


def test_the_live_check_needs_a_signed_in_user(client):
    (case,) = make_cases(1)
    response = client.get(LIVE, {"ids": case.pk.hex, "v": "x"})
    assert response.status_code == 302


# --- Row stamps -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"unread_messages": 1},
        {"lifecycle": LifecycleChoices.CLOSED, "close_code": "Paid"},
        {"remainder": Decimal("12.34")},
        {"partner_reference": "AG-1"},
        {"first_opened_at": timezone.now()},
        {"exclusive_period_end": timezone.now()},
        {"debitura_assignee_name": "Sam"},
    ],
    ids=lambda change: ",".join(change),
)
def test_a_change_to_what_a_row_shows_moves_its_stamp(change):
    (case,) = make_cases(1)
    before = case_row_stamps([case.pk])[str(case.pk)]
    Case.objects.filter(pk=case.pk).update(**change)
    assert case_row_stamps([case.pk])[str(case.pk)] != before


def test_a_row_stamp_from_a_loaded_case_is_the_one_the_database_gives(agent):
    (case,) = make_cases(
        1,
        partner_reference="AG-7",
        assigned_to=agent,
        exclusive_period_end=timezone.now(),
        first_opened_at=timezone.now(),
        gross_amount=Decimal("1234.5"),
    )
    loaded = Case.objects.select_related("assigned_to").get(pk=case.pk)
    assert case_row_stamp(loaded) == case_row_stamps([case.pk])[str(case.pk)]
    # A sync writing only what the list does not show (raw, the sync stamp) leaves the row alone.
    Case.objects.filter(pk=case.pk).update(synced_at=timezone.now(), raw={"x": 1})
    assert case_row_stamp(loaded) == case_row_stamps([case.pk])[str(case.pk)]
    assert "unread_messages" in LIST_ROW_COLUMNS
