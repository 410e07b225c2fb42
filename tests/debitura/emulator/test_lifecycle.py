"""Accepting (start) and closing cases, and what a lifecycle allows."""

from __future__ import annotations

import httpx
import pytest

from debitura.emulator import Emulator
from tests.fixtures.emulator import payment_body, pending_case, started_case, team_member


def start_body(emulator: Emulator, **extra: object) -> dict[str, object]:
    return {
        "welcomeMessage": "We have taken over your case.",
        "userEmail": team_member(emulator).email,
        **extra,
    }


def test_start_activates_the_case_with_all_its_effects(api: httpx.Client, emulator: Emulator) -> None:
    case = pending_case(emulator)
    case.validation_items = [*case.validation_items]
    assignee = list(emulator.state.users.values())[1]

    response = api.post(
        f"/cases/{case.id}/start",
        json=start_body(
            emulator, collectionPartnerReference="AGY-1", assignedUserEmail=assignee.email, collectionFees=50
        ),
    )

    assert response.json()["status"] == "Active"
    assert response.json()["collectionPartnerReference"] == "AGY-1"
    fetched = api.get(f"/cases/{case.id}").json()
    assert fetched["lifecycle"] == "Active"
    assert fetched["dateCollectionStarted"] == response.json()["activatedAt"]
    assert fetched["assignedUser"]["email"] == assignee.email
    assert fetched["collectionFees"] == 50
    assert fetched["validation"] == {"needsInfo": False}
    assert api.get(f"/cases/{case.id}/chats").json()[-1]["message"] == "We have taken over your case."
    period = api.get(f"/cases/{case.id}/exclusive-period").json()
    assert period["status"] == "Active"
    assert 180 <= period["daysRemaining"] <= 184
    assert api.get("/cases/by-partner-reference/AGY-1").json()["id"] == case.id


def test_start_needs_pending_verification(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)

    response = api.post(f"/cases/{case.id}/start", json=start_body(emulator))

    assert response.status_code == 400
    assert response.json()["businessErrors"][0]["type"] == "InvalidCaseState"


@pytest.mark.parametrize(
    ("claim_type", "disputed"), [("Breach of Contract", False), ("Unpaid Invoice", True)]
)
def test_start_refuses_custom_terms_cases(
    api: httpx.Client, emulator: Emulator, claim_type: str, disputed: bool
) -> None:
    case = emulator.new_assignment(claim_type=claim_type, disputed=disputed)[0]

    response = api.post(f"/cases/{case.id}/start", json=start_body(emulator))

    assert response.status_code == 400
    assert response.json()["businessErrors"][0]["type"] == "CustomTermsRequired"
    assert case.lifecycle == "PendingVerification"


def test_start_needs_a_sender(api: httpx.Client, emulator: Emulator) -> None:
    case = pending_case(emulator)

    response = api.post(f"/cases/{case.id}/start", json={"welcomeMessage": "We have taken over your case."})

    assert response.status_code == 400
    assert response.json()["businessErrors"][0]["type"] == "MissingUserIdentifier"


def test_start_refuses_people_outside_the_active_team(api: httpx.Client, emulator: Emulator) -> None:
    case = pending_case(emulator)
    former = next(u for u in emulator.state.users.values() if not u.active)

    as_former = api.post(f"/cases/{case.id}/start", json=start_body(emulator, userEmail=former.email))
    to_stranger = api.post(
        f"/cases/{case.id}/start", json=start_body(emulator, assignedUserEmail="who@else.example")
    )
    by_id = api.post(
        f"/cases/{case.id}/start", json={"welcomeMessage": "Long enough text", "userId": former.id}
    )

    assert as_former.status_code == to_stranger.status_code == by_id.status_code == 400
    assert case.lifecycle == "PendingVerification"


def test_start_accepts_the_deprecated_user_id(api: httpx.Client, emulator: Emulator) -> None:
    case = pending_case(emulator)
    body = {"welcomeMessage": "We have taken over your case.", "userId": team_member(emulator).id}

    assert api.post(f"/cases/{case.id}/start", json=body).status_code == 200


def test_welcome_message_must_be_at_least_ten_characters(api: httpx.Client, emulator: Emulator) -> None:
    case = pending_case(emulator)

    assert (
        api.post(f"/cases/{case.id}/start", json=start_body(emulator, welcomeMessage="Hi")).status_code == 400
    )


def test_close_as_paid_needs_payments_covering_the_balance(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)

    without_payment = api.post(f"/cases/{case.id}/close", json={"closeCode": "Paid"})
    api.post(f"/cases/{case.id}/payments", json=payment_body(float(case.remainder)))
    closed = api.post(f"/cases/{case.id}/close", json={"closeCode": "Paid"})

    assert without_payment.status_code == 400
    assert without_payment.json()["businessErrors"][0]["type"] == "InvalidCloseCode"
    assert closed.json()["closeCodeDescription"] == "Paid"
    assert closed.json()["finalOutstandingAmount"] == 0
    assert api.get(f"/cases/{case.id}").json()["closeCode"] == "Paid"


def test_close_as_partially_paid_needs_a_payment_below_the_balance(
    api: httpx.Client, emulator: Emulator
) -> None:
    case = started_case(emulator, api)

    without_payment = api.post(f"/cases/{case.id}/close", json={"closeCode": "PartiallyPaid"})
    api.post(f"/cases/{case.id}/payments", json=payment_body(10))
    closed = api.post(
        f"/cases/{case.id}/close", json={"closeCode": "PartiallyPaid", "comment": "Debtor paid part."}
    )

    assert without_payment.status_code == 400
    assert closed.status_code == 200
    assert closed.json()["totalPayments"] == 10


def test_close_as_partially_paid_is_refused_once_settled(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)
    api.post(f"/cases/{case.id}/payments", json=payment_body(float(case.remainder)))

    assert api.post(f"/cases/{case.id}/close", json={"closeCode": "PartiallyPaid"}).status_code == 400


def test_close_codes_come_back_in_description_form(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)

    api.post(f"/cases/{case.id}/close", json={"closeCode": "DebtorUntraceable"})

    assert api.get(f"/cases/{case.id}").json()["closeCode"] == "Debtor Untraceable"
    assert api.get(f"/cases/{case.id}").json()["dateFinished"] is not None


def test_close_refuses_unknown_codes_and_long_comments(
    api: httpx.Client, bad_api: httpx.Client, emulator: Emulator
) -> None:
    case = started_case(emulator, api)

    assert api.post(f"/cases/{case.id}/close", json={"closeCode": "Bored"}).status_code == 400
    assert (
        bad_api.post(
            f"/cases/{case.id}/close", json={"closeCode": "Other", "comment": "x" * 2001}
        ).status_code
        == 400
    )


def test_a_closed_case_takes_documents_only(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)
    api.post(f"/cases/{case.id}/close", json={"closeCode": "Other", "comment": "Settled directly."})

    note = api.post(f"/cases/{case.id}/notes", json={"description": "Late note"})
    chat = api.post(
        f"/cases/{case.id}/chats", json={"message": "Hi", "userEmail": team_member(emulator).email}
    )
    payment = api.post(f"/cases/{case.id}/payments", json=payment_body(10))
    again = api.post(f"/cases/{case.id}/close", json={"closeCode": "Other"})
    upload = api.post(f"/cases/{case.id}/files", files={"File": ("receipt.pdf", b"%PDF-1.4")})

    assert note.status_code == chat.status_code == payment.status_code == again.status_code == 400
    assert upload.status_code == 200


def test_a_merged_case_is_read_only(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)
    emulator.merge(case.id)
    member = team_member(emulator).email

    refused = [
        api.post(f"/cases/{case.id}/notes", json={"description": "Note"}),
        api.post(f"/cases/{case.id}/chats", json={"message": "Hi", "userEmail": member}),
        api.post(f"/cases/{case.id}/payments", json=payment_body(10)),
        api.post(f"/cases/{case.id}/close", json={"closeCode": "Other"}),
        api.put(f"/cases/{case.id}/fees", json={"interestFees": 1, "reminderFees": 1, "collectionFees": 1}),
    ]
    upload = api.post(f"/cases/{case.id}/files", files={"File": ("letter.pdf", b"%PDF-1.4")})

    assert [r.status_code for r in refused] == [400] * len(refused)
    assert {r.json()["businessErrors"][0]["type"] for r in refused} == {"CaseMerged"}
    assert upload.status_code == 409
    assert api.get(f"/cases/{case.id}").json()["lifecycle"] == "Merged"


def test_every_change_bumps_date_updated(api: httpx.Client, emulator: Emulator) -> None:
    case = started_case(emulator, api)
    stamps = [api.get(f"/cases/{case.id}").json()["dateUpdated"]]

    api.post(f"/cases/{case.id}/notes", json={"description": "Called the debtor."})
    stamps.append(api.get(f"/cases/{case.id}").json()["dateUpdated"])
    api.post(f"/cases/{case.id}/payments", json=payment_body(5))
    stamps.append(api.get(f"/cases/{case.id}").json()["dateUpdated"])
    api.post(f"/cases/{case.id}/files", files={"File": ("a.txt", b"a")})
    stamps.append(api.get(f"/cases/{case.id}").json()["dateUpdated"])

    assert stamps == sorted(set(stamps))
    newest = api.get("/cases", params={"Sort": "DateUpdated:desc", "PageSize": 1}).json()["cases"][0]
    assert newest["id"] == case.id
