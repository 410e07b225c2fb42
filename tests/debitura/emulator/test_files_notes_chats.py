"""Files (limits, signed links), notes in the timeline, and the case chat."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import httpx
import pytest

from debitura.emulator import Emulator
from debitura.emulator.files import MAX_UPLOAD_BYTES
from tests.fixtures.emulator import started_case, team_member


def test_uploaded_bytes_come_back_through_the_signed_link(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)
    content = b"%PDF-1.4 demand letter " * 100

    uploaded = api.post(
        f"/cases/{case.id}/files",
        files={"File": ("demand.pdf", content, "application/pdf")},
        data={"DocumentType": "DemandLetter", "Description": "First demand"},
    ).json()
    listed = api.get(f"/cases/{case.id}/files").json()
    download = api.get(listed[-1]["url"])

    assert uploaded["documentType"] == "DemandLetter"
    assert listed[-1]["id"] == uploaded["id"]
    assert hashlib.sha256(download.content).digest() == hashlib.sha256(content).digest()
    assert download.headers["Content-Type"] == "application/pdf"


def test_seeded_files_are_downloadable(api: httpx.Client, emulator: Emulator) -> None:
    case = next(c for c in emulator.state.cases.values() if c.files)

    listed = api.get(f"/cases/{case.id}/files").json()

    assert api.get(listed[0]["url"]).content == case.files[0].content


def test_links_expire_after_about_an_hour(api: httpx.Client, emulator: Emulator) -> None:
    case = next(c for c in emulator.state.cases.values() if c.files)
    url = api.get(f"/cases/{case.id}/files").json()[0]["url"]

    emulator.advance_clock(timedelta(minutes=61).total_seconds())

    assert api.get(url).status_code == 403
    assert api.get(api.get(f"/cases/{case.id}/files").json()[0]["url"]).status_code == 200


def test_a_tampered_link_is_refused(api: httpx.Client, emulator: Emulator) -> None:
    case = next(c for c in emulator.state.cases.values() if c.files)
    url = api.get(f"/cases/{case.id}/files").json()[0]["url"]

    assert api.get(url[:-4] + "0000").status_code == 403


def test_files_over_25_mb_are_a_413(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)

    response = api.post(f"/cases/{case.id}/files", files={"File": ("big.pdf", b"x" * (MAX_UPLOAD_BYTES + 1))})

    assert response.status_code == 413
    assert case.files == [] or all(f.file_name != "big.pdf" for f in case.files)


@pytest.mark.parametrize("name", ["setup.exe", "photo.gif", "noextension"])
def test_unlisted_extensions_are_a_415(api: httpx.Client, emulator: Emulator, name: str) -> None:
    case = started_case(emulator, api)

    assert api.post(f"/cases/{case.id}/files", files={"File": (name, b"data")}).status_code == 415


def test_an_upload_without_a_file_is_a_400(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)

    assert (
        api.post(
            f"/cases/{case.id}/files", data={"Description": "nothing"}, files={"Other": ("a.txt", b"")}
        ).status_code
        == 400
    )


def test_a_note_appears_in_the_timeline_at_its_event_date(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)
    when = (emulator.clock.now() - timedelta(days=3)).isoformat()

    note = api.post(
        f"/cases/{case.id}/notes", json={"description": "Called the debtor.", "eventDate": when}
    ).json()
    timeline = api.get(f"/cases/{case.id}/timeline").json()["items"]

    entry = next(i for i in timeline if i["type"] == "Note")
    assert entry["description"] == "Called the debtor."
    assert entry["date"] == note["eventDate"]
    assert timeline.index(entry) < len(timeline) - 1


def test_a_note_dated_in_the_future_is_a_400(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)
    later = (emulator.clock.now() + timedelta(hours=1)).isoformat()

    assert (
        api.post(f"/cases/{case.id}/notes", json={"description": "Later", "eventDate": later}).status_code
        == 400
    )


def test_a_chat_message_is_attributed_to_the_team_member(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)
    member = team_member(emulator)

    sent = api.post(
        f"/cases/{case.id}/chats", json={"message": "Payment plan agreed.", "userEmail": member.email}
    ).json()

    assert (sent["role"], sent["roleLabel"], sent["user"]["email"]) == (0, "Partner", member.email)
    assert api.get(f"/cases/{case.id}/chats").json()[-1]["id"] == sent["id"]


def test_a_chat_needs_a_team_member(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)

    missing = api.post(f"/cases/{case.id}/chats", json={"message": "Hello"})
    stranger = api.post(f"/cases/{case.id}/chats", json={"message": "Hello", "userEmail": "x@y.example"})

    assert missing.json()["businessErrors"][0]["type"] == "MissingUserIdentifier"
    assert stranger.status_code == 400
