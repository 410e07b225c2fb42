"""Reading from Debitura through the gateway, against the emulator, every exchange checked by the spec."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from debitura.client import DebituraClient, without_nul
from debitura.emulator import Emulator
from debitura.enums import Lifecycle
from debitura.errors import AuthError, NotFound, RequestInvalid
from debitura.types import Case, CaseFilters
from tests.fixtures.gateway import make_client

ALL_PARTNER_CASES = CaseFilters()


def seeded(emulator: Emulator, test: Callable[[Any], bool] = lambda case: True) -> Any:
    """The first seeded emulator case (not a test case) that passes `test`."""
    return next(case for case in emulator.state.cases.values() if not case.is_test and test(case))


def test_me_returns_the_partner_profile_with_decimal_revenue_shares(debitura_client: DebituraClient) -> None:
    me = debitura_client.get_me()
    assert me.id
    assert me.company_name
    assert isinstance(me.pre_legal_revenue_share, Decimal)
    assert isinstance(me.legal_revenue_share, Decimal)


def test_users_are_collected_across_every_page(debitura_client: DebituraClient, emulator: Emulator) -> None:
    users = debitura_client.list_users(page_size=2)
    active = {user.email for user in emulator.state.users.values() if user.active}
    assert {user.email for user in users} == active
    assert emulator.stats()["requests"]["GET /users"] == -(-len(active) // 2)


def test_a_case_page_is_typed_and_knows_its_paging(debitura_client: DebituraClient) -> None:
    page = debitura_client.list_cases(page=1, page_size=5)
    assert len(page.cases) == 5
    assert page.page.current_page == 1
    assert page.page.page_size == 5
    assert page.page.has_next
    case = page.cases[0]
    assert isinstance(case, Case)
    assert isinstance(case.gross_amount, Decimal)
    assert case.date_created is not None
    assert case.date_created.tzinfo is not None
    assert case.lifecycle in set(Lifecycle) - {Lifecycle.UNKNOWN}


def test_iterating_cases_walks_every_page_once(debitura_client: DebituraClient, emulator: Emulator) -> None:
    cases = list(debitura_client.iter_cases(page_size=7))
    expected = [case for case in emulator.state.cases.values() if not case.is_test]
    assert len(cases) == len(expected)
    assert len({case.id for case in cases}) == len(cases)
    assert emulator.stats()["requests"]["GET /cases"] == -(-len(expected) // 7)


def test_test_cases_are_listed_only_when_asked_for(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    test_ids = {case.id for case in emulator.state.cases.values() if case.is_test}
    assert test_ids
    plain = {case.id for case in debitura_client.iter_cases()}
    with_tests = {case.id for case in debitura_client.iter_cases(CaseFilters(include_test_cases=True))}
    assert not plain & test_ids
    assert test_ids <= with_tests
    assert all(
        case.is_test_case
        for case in debitura_client.iter_cases(CaseFilters(ids=sorted(test_ids), include_test_cases=True))
    )


@pytest.mark.parametrize(
    "statuses",
    [
        [Lifecycle.ACTIVE],
        [Lifecycle.PENDING_VERIFICATION, Lifecycle.PAUSED],
        ["Closed"],
        ["Needs Additional Details"],
    ],
)
def test_cases_filter_by_lifecycle(debitura_client: DebituraClient, statuses: list[Lifecycle | str]) -> None:
    wanted = {Lifecycle.parse(status) if isinstance(status, str) else status for status in statuses}
    cases = list(debitura_client.iter_cases(CaseFilters(statuses=statuses)))
    assert cases
    assert {case.lifecycle for case in cases} <= wanted


def test_cases_filter_by_ids_debtors_and_divisions(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    first = seeded(emulator, lambda case: case.division is not None)
    second = seeded(emulator, lambda case: case.id != first.id)

    by_ids = debitura_client.list_cases(CaseFilters(ids=[first.id, second.id]))
    assert {case.id for case in by_ids.cases} == {first.id, second.id}

    by_debtor = debitura_client.list_cases(CaseFilters(debtor_ids=[first.debtor.id]))
    assert by_debtor.cases
    assert all(case.debtor is not None and case.debtor.name == first.debtor.name for case in by_debtor.cases)

    by_division = debitura_client.list_cases(CaseFilters(division_ids=[first.division.id]))
    assert first.id in {case.id for case in by_division.cases}
    assert all(case.creditor_division_id == first.division.id for case in by_division.cases)


def test_cases_sort_as_asked(debitura_client: DebituraClient) -> None:
    cases = list(debitura_client.iter_cases(CaseFilters(sort="GrossAmount:desc")))
    amounts = [case.gross_amount for case in cases]
    assert amounts == sorted(amounts, reverse=True)


def test_a_case_carries_every_invoice_field(debitura_client: DebituraClient, emulator: Emulator) -> None:
    seed = seeded(emulator, lambda case: case.lifecycle == "Active" and case.division is not None)
    case = debitura_client.get_case(seed.id)

    assert case.id == seed.id
    assert case.reference == seed.reference
    assert case.gross_amount == seed.gross_amount
    assert case.currency == seed.currency
    assert case.lifecycle is Lifecycle.ACTIVE
    assert case.debtor is not None
    assert case.debtor.name == seed.debtor.name
    assert case.creditor is not None
    assert case.creditor.id == seed.creditor.id
    assert case.creditor.division is not None
    assert case.bank_account is not None
    assert case.allocation_outstanding is not None
    assert isinstance(case.needs_info, bool)
    assert case.raw["id"] == seed.id
    for field in ("debtor", "creditor", "allocationOutstanding", "validation", "preLegalSuccessFee"):
        assert field in case.raw


def test_a_case_is_found_by_each_of_its_references(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    seed = seeded(emulator, lambda case: case.partner_reference is not None)
    assert debitura_client.get_case_by_reference(seed.reference).id == seed.id
    assert debitura_client.get_case_by_partner_reference(seed.partner_reference).id == seed.id
    found = debitura_client.get_case_by_creditor_reference(
        seed.creditor_reference, creditor_id=seed.creditor.id
    )
    assert found.id == seed.id


def test_a_partner_reference_with_a_slash_is_sent_as_one_path_segment(emulator: Emulator) -> None:
    sent: list[bytes] = []
    # No contract hooks here: they match on the decoded path, where %2F has become "/".
    client = make_client(
        emulator.transport(), event_hooks={"request": [lambda r: sent.append(r.url.raw_path)]}
    )
    with pytest.raises(NotFound):
        client.get_case_by_partner_reference("AGENCY/2025/7")
    assert sent == [b"/cases/by-partner-reference/AGENCY%2F2025%2F7"]


def test_batch_look_up_by_partner_references_leaves_unknown_ones_out(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    with_refs = [
        case for case in emulator.state.cases.values() if case.partner_reference and not case.is_test
    ][:3]
    references = [str(case.partner_reference) for case in with_refs]
    found = debitura_client.get_cases_by_partner_references([*references, "NO-SUCH-REF"])
    assert set(found) == set(references)
    assert {found[ref].id for ref in references} == {case.id for case in with_refs}


def test_more_than_100_partner_references_are_refused_without_a_request(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    with pytest.raises(RequestInvalid) as caught:
        debitura_client.get_cases_by_partner_references([f"R{i}" for i in range(101)])
    assert "references" in caught.value.errors
    assert emulator.stats()["requests"] == {}


def test_timeline_is_typed(debitura_client: DebituraClient, emulator: Emulator) -> None:
    seed = seeded(emulator, lambda case: case.lifecycle == "Active")
    timeline = debitura_client.get_timeline(seed.id)
    assert timeline.items
    assert all(item.date is None or item.date.tzinfo is not None for item in timeline.items)
    assert timeline.current_engagement_phase in (None, "Pre-legal", "Legal", "Enforcement")


def test_chats_payments_and_files_of_a_case_are_typed(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    seed = seeded(emulator, lambda case: bool(case.payments) and bool(case.chats) and bool(case.files))
    chats = debitura_client.list_chats(seed.id)
    payments = debitura_client.list_payments(seed.id)
    files = debitura_client.list_files(seed.id)

    assert [chat.id for chat in chats] == [
        chat.id for chat in sorted(seed.chats, key=lambda c: c.date_created)
    ]
    assert {payment.id for payment in payments} == {payment.id for payment in seed.payments}
    assert all(isinstance(payment.gross_amount, Decimal) for payment in payments)
    assert {file.id for file in files} == {file.id for file in seed.files}
    assert all(file.url for file in files)


def test_exclusive_period_is_typed_or_none_when_debitura_has_none(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    with_period = seeded(emulator, lambda case: case.exclusive is not None)
    without = seeded(emulator, lambda case: case.exclusive is None)

    period = debitura_client.get_exclusive_period(with_period.id)
    assert period is not None
    assert isinstance(period.current_end_date, datetime)
    assert debitura_client.get_exclusive_period(without.id) is None


def test_case_validation_status_is_typed(debitura_client: DebituraClient, emulator: Emulator) -> None:
    seed = seeded(emulator, lambda case: bool(case.validation_items))
    status = debitura_client.get_case_validation(seed.id)
    assert status.needs_info
    assert [item.description for item in status.items] == [item.description for item in seed.validation_items]


def test_an_unknown_case_is_not_found(debitura_client: DebituraClient) -> None:
    with pytest.raises(NotFound) as caught:
        debitura_client.get_case("00000000-0000-4000-8000-000000000000")
    assert caught.value.status == 404
    assert caught.value.message


def test_a_wrong_api_key_is_an_auth_error_without_the_key_in_it(emulator: Emulator) -> None:
    client = DebituraClient(
        "http://debitura.test", "wrong-key-s3cret", transport=emulator.transport(), throttle=None
    )
    with pytest.raises(AuthError) as caught:
        client.get_me()
    assert caught.value.status == 401
    assert "wrong-key-s3cret" not in str(caught.value)
    assert "wrong-key-s3cret" not in repr(caught.value.body)
    assert "wrong-key-s3cret" not in repr(client)


def test_unknown_status_filters_are_refused_before_sending(
    debitura_client: DebituraClient, emulator: Emulator
) -> None:
    with pytest.raises(RequestInvalid) as caught:
        debitura_client.list_cases(CaseFilters(statuses=["Hibernating"]))
    assert "Statuses" in caught.value.errors
    assert emulator.stats()["requests"] == {}


@pytest.mark.parametrize("page_size", [0, 101])
def test_page_size_outside_1_to_100_is_refused_before_sending(
    debitura_client: DebituraClient, emulator: Emulator, page_size: int
) -> None:
    with pytest.raises(RequestInvalid):
        debitura_client.list_cases(page_size=page_size)
    assert emulator.stats()["requests"] == {}


def test_requests_carry_the_key_accept_and_user_agent(emulator: Emulator) -> None:
    seen: list[dict[str, str]] = []
    client = make_client(
        emulator.transport(), event_hooks={"request": [lambda r: seen.append(dict(r.headers))]}
    )
    client.get_me()
    (headers,) = seen
    assert headers["xapikey"] == "test-api-key"
    assert headers["accept"] == "application/json"
    assert headers["user-agent"].startswith("partnerportal/")


@pytest.mark.parametrize(
    ("text", "stored"),
    [("a\x00b", "ab"), ("\\u0000", "\\u0000"), ("x\\\x00y", "x\\y"), ("\x00\x00", ""), ("plain", "plain")],
)
def test_nul_characters_are_left_out_of_debituras_text_and_escaped_backslashes_stay(text, stored):
    assert json.loads(without_nul(json.dumps({"name": text}).encode())) == {"name": stored}
