"""Typed results: Decimal amounts, aware timestamps, both-way enums, tolerance of new fields."""

from __future__ import annotations

import json
import typing
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import httpx
import msgspec
import pytest

from debitura import types
from debitura.emulator import Emulator
from debitura.enums import FILTERABLE_LIFECYCLES, ChatRole, CloseCode, Lifecycle
from debitura.serialization import dumps, format_date, format_datetime, json_native, loads
from debitura.types import (
    ApiStruct,
    AwareStruct,
    Case,
    CasePage,
    CaseValuesPage,
    Chat,
    DecodeError,
    NotJson,
    Payment,
    PaymentCreated,
    PriceChangeConfirmation,
    Timeline,
)
from tests.contract import spec

LIFECYCLE_FORMS = [
    (Lifecycle.PENDING_VERIFICATION, "PendingVerification", "Pending Verification"),
    (Lifecycle.NEEDS_ADDITIONAL_DETAILS, "NeedsAdditionalDetails", "Needs Additional Details"),
    (Lifecycle.LEADS, "Leads", "Leads"),
    (Lifecycle.LEADS_QUOTE_GIVEN, "LeadsQuoteGiven", "Leads Quote Given"),
    (Lifecycle.ACTIVE, "Active", "Active"),
    (Lifecycle.PAUSED, "Paused", "Paused"),
    (Lifecycle.CLOSED, "Closed", "Closed"),
    (Lifecycle.MERGED, "Merged", "Merged"),
]

CLOSE_CODE_FORMS = [
    (CloseCode.PAID, "Paid", "Paid"),
    (CloseCode.PARTIALLY_PAID, "PartiallyPaid", "Partially Paid"),
    (CloseCode.DEBTOR_INSOLVENT_BANKRUPT, "DebtorInsolventBankrupt", "Debtor Insolvent / Bankrupt"),
    (CloseCode.DEBTOR_UNTRACEABLE, "DebtorUntraceable", "Debtor Untraceable"),
    (
        CloseCode.DISPUTED_LEGAL_ACTION_DECLINED_BY_CLIENT,
        "DisputedLegalActionDeclinedByClient",
        "Disputed - Legal Action Declined by Client",
    ),
    (CloseCode.WITHDRAWN_BY_CLIENT, "WithdrawnByClient", "Withdrawn by Client"),
    (
        CloseCode.PRE_LEGAL_EXHAUSTED_NO_PAYMENT,
        "PreLegalExhaustedNoPayment",
        "Pre-legal Exhausted - No Payment",
    ),
    (
        CloseCode.STATUTE_OF_LIMITATIONS_EXPIRED,
        "StatuteOfLimitationsExpired",
        "Statute of Limitations Expired",
    ),
    (CloseCode.SETTLEMENT_REJECTED_BY_CLIENT, "SettlementRejectedByClient", "Settlement Rejected by Client"),
    (CloseCode.UNRESPONSIVE_CLIENT, "UnresponsiveClient", "Unresponsive Client"),
    (CloseCode.UNECONOMICAL_TO_PURSUE, "UneconomicalToPursue", "Uneconomical to Pursue"),
    (CloseCode.OTHER, "Other", "Other"),
]


@pytest.mark.parametrize(("member", "name", "description"), [*LIFECYCLE_FORMS, *CLOSE_CODE_FORMS])
def test_lifecycle_and_close_code_map_both_ways(
    member: Lifecycle | CloseCode, name: str, description: str
) -> None:
    parse = type(member).parse
    assert member.value == name
    assert member.description == description
    assert parse(name) is member
    assert parse(description) is member
    assert parse(description.upper()) is member


def test_close_code_descriptions_parse_whatever_their_punctuation() -> None:
    assert CloseCode.parse("Debtor Insolvent/Bankrupt") is CloseCode.DEBTOR_INSOLVENT_BANKRUPT
    assert CloseCode.parse("Disputed \u2013 legal action declined by client") is (
        CloseCode.DISPUTED_LEGAL_ACTION_DECLINED_BY_CLIENT
    )


def test_unknown_lifecycle_and_close_code_become_unknown_rather_than_fail() -> None:
    assert Lifecycle.parse("Awaiting Moon Phase") is Lifecycle.UNKNOWN
    assert CloseCode.parse("Debtor Emigrated To Mars") is CloseCode.UNKNOWN
    assert Lifecycle("Awaiting Moon Phase") is Lifecycle.UNKNOWN
    assert CloseCode("Withdrawn by Client") is CloseCode.WITHDRAWN_BY_CLIENT


def test_unknown_is_not_a_filterable_lifecycle() -> None:
    assert Lifecycle.UNKNOWN not in FILTERABLE_LIFECYCLES
    assert len(FILTERABLE_LIFECYCLES) == 8


def test_an_unknown_chat_role_does_not_fail() -> None:
    assert Chat.from_api({"id": "c", "role": 9}).role is ChatRole.UNKNOWN
    assert Chat.from_api({"id": "c", "role": 1}).role is ChatRole.CREDITOR


def _case(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "grossAmount": 0, "remainder": 0}
    data.update(overrides)
    return data


def test_amounts_are_decimals_with_every_digit_kept() -> None:
    case = Case.from_api(loads(json.dumps(_case(grossAmount=1e20)).replace("1e+20", "12345678901234567.89")))
    assert case.gross_amount == Decimal("12345678901234567.89")
    assert Case.from_api(loads(b'{"id":"x","grossAmount":0.1,"remainder":0.30}')).remainder == Decimal("0.30")


def test_integer_amounts_become_decimals_too() -> None:
    case = Case.from_api(_case(grossAmount=1500))
    assert case.gross_amount == Decimal(1500)
    assert isinstance(case.gross_amount, Decimal)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-11-19T09:30:00Z", datetime(2025, 11, 19, 9, 30, tzinfo=UTC)),
        ("2025-11-19T10:30:00+01:00", datetime(2025, 11, 19, 9, 30, tzinfo=UTC)),
        ("2025-11-19T09:30:00", datetime(2025, 11, 19, 9, 30, tzinfo=UTC)),
        # .NET writes seven digits; the seventh is rounded away.
        ("2025-11-19T09:30:00.1234567Z", datetime(2025, 11, 19, 9, 30, 0, 123457, tzinfo=UTC)),
    ],
)
def test_timestamps_are_aware_whatever_form_they_come_in(text: str, expected: datetime) -> None:
    for case in (
        Case.from_json(json.dumps(_case(dateUpdated=text)).encode()),
        Case.from_api(_case(dateUpdated=text)),
    ):
        assert case.date_updated is not None
        assert case.date_updated.tzinfo is not None
        assert case.date_updated == expected


def test_naive_timestamps_are_made_aware_in_nested_results_too() -> None:
    timeline = Timeline.from_json(b'{"items": [{"date": "2025-11-19T09:30:00", "type": "Note"}]}')
    assert timeline.items[0].date == datetime(2025, 11, 19, 9, 30, tzinfo=UTC)


def _struct_types() -> list[type[ApiStruct]]:
    found, todo = [], [ApiStruct]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    return [
        cls
        for cls in found
        if cls.__module__.startswith("debitura.types.") and cls not in (ApiStruct, AwareStruct)
    ]


@pytest.mark.parametrize("cls", _struct_types(), ids=lambda cls: cls.__name__)
def test_every_result_with_timestamps_makes_them_aware(cls: type[ApiStruct]) -> None:
    timestamps = [
        name
        for name, hint in typing.get_type_hints(cls).items()
        if datetime in (hint, *typing.get_args(hint))
    ]
    assert bool(timestamps) == issubclass(cls, AwareStruct), timestamps


def test_case_timestamps_are_aware() -> None:
    case = Case.from_api(_case(dateCreated="2025-01-02T03:04:05", dueDate="2025-02-01T00:00:00+02:00"))
    assert case.date_created == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert case.due_date is not None
    assert case.due_date.utcoffset() == timedelta(hours=2)


@pytest.mark.parametrize("text", ["2025-11-19T00:00:00Z", "2025-11-19T00:00:00", "2025-11-19"])
def test_payment_dates_are_calendar_dates(text: str) -> None:
    payment = Payment.from_api({"id": "p", "grossAmount": 5, "date": text})
    assert payment.date == date(2025, 11, 19)
    created = PaymentCreated.from_json(f'{{"paymentId": "p", "paymentAmount": 5, "date": "{text}"}}'.encode())
    assert created.date == date(2025, 11, 19)


def test_a_payment_date_that_is_no_date_is_a_decode_error_naming_it() -> None:
    with pytest.raises(DecodeError, match=r"Payment\.date"):
        Payment.from_json(b'{"id": "p", "grossAmount": 5, "date": "soon"}')


def test_response_descriptions_become_enum_members_on_the_case() -> None:
    case = Case.from_api(_case(lifecycle="Pending Verification", closeCode="Withdrawn by Client"))
    assert case.lifecycle is Lifecycle.PENDING_VERIFICATION
    assert case.close_code is CloseCode.WITHDRAWN_BY_CLIENT


def test_unknown_values_keep_their_raw_text_on_the_case() -> None:
    case = Case.from_api(_case(lifecycle="Hibernating"))
    assert case.lifecycle is Lifecycle.UNKNOWN
    assert case.raw["lifecycle"] == "Hibernating"


def test_fields_debitura_adds_later_are_ignored_everywhere() -> None:
    case = Case.from_api(
        _case(brandNewField={"x": 1}, debtor={"name": "A", "type": "Company", "shoeSize": 44})
    )
    assert case.debtor is not None
    assert case.debtor.name == "A"
    assert case.raw["brandNewField"] == {"x": 1}


def test_nested_case_fields_are_typed() -> None:
    case = Case.from_api(
        _case(
            creditor={"id": "cr", "companyName": "Acme", "division": {"id": "dv", "name": "North"}},
            assignedUser={"email": "a@example.com", "name": "Ann"},
            validation={"needsInfo": True},
            allocationOutstanding={"principal": 10.5, "interest": 1, "reminderFees": 0, "collectionFees": 0},
            exclusivePeriodEndDate="2026-01-01T00:00:00Z",
            disputeStatus="Don't Know",
            preLegalSuccessFee=9.5,
        )
    )
    assert case.creditor is not None
    assert case.creditor.division is not None
    assert case.creditor.division.name == "North"
    assert case.assigned_user is not None
    assert case.assigned_user.email == "a@example.com"
    assert case.needs_info is True
    assert case.allocation_outstanding is not None
    assert case.allocation_outstanding.principal == Decimal("10.5")
    assert case.exclusive_period_end_date == datetime(2026, 1, 1, tzinfo=UTC)
    assert case.dispute_status == "Don't Know"
    assert case.pre_legal_success_fee == Decimal("9.5")


def test_raw_is_json_native_so_it_can_be_stored_as_it_came() -> None:
    case = Case.from_api(loads(b'{"id":"x","grossAmount":1234.56,"remainder":0.1,"debtor":{"name":"A"}}'))
    assert json.loads(json.dumps(case.raw)) == {
        "id": "x",
        "grossAmount": 1234.56,
        "remainder": 0.1,
        "debtor": {"name": "A"},
    }


LISTED = (
    '{ "page": {"pageNumber": 1},\n "cases": [ {"id": "a", "grossAmount": 12.50, "remainder": 0,'
    ' "debtor": {"name": "Ærø \\"Ltd\\" \\u00e9"}} ,'
    '{"id":"b","grossAmount":1e2,"remainder":0.1,"x":[{"y":1}]} ] }'
)


def test_a_listed_case_keeps_the_exact_json_text_it_came_in() -> None:
    page = CasePage.from_json(LISTED.encode())
    first, second = page.cases
    assert (
        first.raw_json
        == '{"id": "a", "grossAmount": 12.50, "remainder": 0, "debtor": {"name": "Ærø \\"Ltd\\" \\u00e9"}}'
    )
    assert second.raw_json == '{"id":"b","grossAmount":1e2,"remainder":0.1,"x":[{"y":1}]}'
    assert second.raw == {"id": "b", "grossAmount": 100.0, "remainder": 0.1, "x": [{"y": 1}]}
    assert first.gross_amount == Decimal("12.50")


def test_a_case_read_alone_keeps_its_json_text_too() -> None:
    case = Case.from_json(b' {"id": "x", "grossAmount": 0.10, "remainder": 0, "new": null}\n')
    assert case.raw_json == '{"id": "x", "grossAmount": 0.10, "remainder": 0, "new": null}'


def test_no_answer_fills_the_json_text_in_place_of_the_sync() -> None:
    case = Case.from_json(b'{"id": "x", "grossAmount": 1, "remainder": 0, "$raw": "forged", "rawJson": "x"}')
    assert json.loads(case.raw_json)["$raw"] == "forged"
    assert case.raw["id"] == "x"


def test_text_that_is_not_json_is_not_json() -> None:
    with pytest.raises(NotJson):
        CasePage.from_json(LISTED[:-3].encode())


def test_lists_the_spec_lets_be_null_read_as_empty() -> None:
    assert CasePage.from_json(b'{"page": null, "cases": null}') == CasePage()
    assert Timeline.from_json(b'{"items": null}').items == ()
    assert PaymentCreated.from_api({"paymentId": "p", "paymentAmount": 1, "warnings": None}).warnings == ()


def test_a_missing_required_field_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="grossAmount"):
        Case.from_api({"id": "x", "remainder": 0})


def test_a_mistyped_field_is_a_decode_error_naming_it() -> None:
    with pytest.raises(DecodeError, match=r"debtor\.name"):
        Case.from_api(_case(debtor={"name": 42}))


def test_a_case_page_knows_whether_more_pages_follow() -> None:
    page = CasePage.from_api({"page": {"currentPage": 1, "totalPages": 3}, "cases": [_case()]})
    assert page.page.has_next
    assert len(page.cases) == 1
    last = CasePage.from_api({"page": {"currentPage": 3, "totalPages": 3}, "cases": None})
    assert not last.page.has_next
    assert last.cases == ()


def test_price_change_confirmation_is_typed() -> None:
    data = loads(
        b'{"caseId":"c","confirmationRequired":true,"currentSuccessFee":9.5,"proposedSuccessFee":20.0}'
    )
    confirmation = PriceChangeConfirmation.from_api(data)
    assert confirmation.proposed_success_fee == Decimal("20.0")
    assert confirmation.current_success_fee == Decimal("9.5")


def test_results_are_frozen() -> None:
    case = Case.from_api(_case())
    with pytest.raises(AttributeError):
        case.remainder = Decimal(1)  # type: ignore[misc]


def test_amounts_written_as_strings_are_read_exactly() -> None:
    assert Case.from_api(_case(grossAmount="12.50")).gross_amount == Decimal("12.50")


# --- JSON and timestamps out -------------------------------------------------------------------


def test_decimals_are_written_as_exact_number_literals() -> None:
    assert dumps({"a": Decimal("0.10"), "b": Decimal("12345678901234567.89"), "c": [Decimal("1E+2")]}) == (
        b'{"a":0.10,"b":12345678901234567.89,"c":[100]}'
    )


def test_decimal_precision_survives_a_round_trip() -> None:
    amounts = {"x": Decimal("1234567890.123456789"), "y": Decimal("0.01")}
    assert loads(dumps(amounts)) == amounts


@pytest.mark.parametrize(
    "raw", [b'{"a":NaN}', b'{"a":Infinity}', b'"\\ud800"', '{"a":1}'.encode("utf-16"), b"<html>"]
)
def test_json_outside_the_standard_is_malformed_when_reading(raw: bytes) -> None:
    with pytest.raises(ValueError, match=r"malformed|truncated"):
        loads(raw)


def test_floats_are_refused_when_encoding() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        dumps({"paymentAmount": 0.1})


def test_non_finite_decimals_are_refused() -> None:
    with pytest.raises(ValueError, match="NaN"):
        dumps({"a": Decimal("NaN")})


def test_strings_and_other_values_are_ordinary_json() -> None:
    assert json.loads(dumps({"s": 'quote " and ünïcode', "n": None, "t": True, "i": 3})) == {
        "s": 'quote " and ünïcode',
        "n": None,
        "t": True,
        "i": 3,
    }


def test_timestamps_are_sent_in_utc_with_z() -> None:
    moment = datetime(2025, 11, 19, 10, 30, tzinfo=timezone(timedelta(hours=1)))
    assert format_datetime(moment) == "2025-11-19T09:30:00Z"


def test_naive_timestamps_are_not_sent() -> None:
    with pytest.raises(ValueError, match="aware"):
        format_datetime(datetime(2025, 11, 19, 9, 30))


def test_dates_are_sent_as_midnight_utc_to_satisfy_the_date_time_schema() -> None:
    assert format_date(date(2025, 11, 19)) == "2025-11-19T00:00:00Z"


def test_json_native_turns_decimals_into_floats() -> None:
    assert json_native({"a": [Decimal("1.5")], "b": 2}) == {"a": [1.5], "b": 2}


# --- Every field the spec documents has a home --------------------------------------------------

RESULT_SCHEMAS = {
    "Case": "Cases.InvoiceDto",
    "Me": "Me.CollectionPartnerMeResponse",
    "User": "Users.CollectionPartnerUserDto",
    "PageInfo": "Base.PageData",
    "Debtor": "Cases.DebtorDto",
    "Creditor": "Cases.CreditorDto",
    "CreditorDivision": "Cases.CreditorDivisionDto",
    "CollectionPartner": "Cases.CollectionPartnerDto",
    "BankAccount": "Cases.BankAccountDto",
    "AssignedUser": "Cases.AssignedUserDto",
    "AllocationOutstanding": "Cases.InvoiceAllocationOutstandingDto",
    "Timeline": "Cases.CaseTimelineResponse",
    "TimelineItem": "Cases.TimelineItemDto",
    "ExclusivePeriod": "Cases.ExclusivePeriodDto",
    "ExclusivePeriodExtension": "Cases.ExclusivePeriodExtensionDto",
    "CaseValidationStatus": "CaseValidation.CaseValidationStatusDto",
    "StartResult": "Cases.StartCaseResponse",
    "CloseResult": "Cases.CloseCaseResponse",
    "Note": "Notes.NoteDto",
    "FeesUpdate": "Cases.UpdateCaseFeesResponse",
    "PriceChangeConfirmation": "Cases.PriceChangeConfirmationResponse",
    "Chat": "Chats.ChatDto",
    "ChatUser": "Users.UserRelationDto",
    "Payment": "Payments.PaymentDto",
    "PaymentCreated": "Payments.CreatePaymentResponse",
    "CaseFile": "Files.CaseFileDto",
    "Webhook": "Webhooks.Dtos.WebhookDto",
    "WebhookEvent": "Webhooks.WebhookEventDto",
    "ReplayResult": "Webhooks.ReplayEventResultDto",
    "BusinessError": "Cases.BusinessErrorApiDTO",
}


@pytest.mark.parametrize(("type_name", "schema_suffix"), sorted(RESULT_SCHEMAS.items()))
def test_every_documented_field_has_a_place_on_its_result_type(type_name: str, schema_suffix: str) -> None:
    schemas = spec()["components"]["schemas"]
    (schema,) = [schema for name, schema in schemas.items() if name.endswith("." + schema_suffix)]
    sources = {field.encode_name for field in msgspec.structs.fields(getattr(types, type_name))}
    missing = set(schema["properties"]) - sources
    assert not missing, f"{type_name} has no field for {sorted(missing)}"


# --- Values without the objects (the sync's reader) -----------------------------------------------


def _leaf_paths(cls: type, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    hints = typing.get_type_hints(cls)
    for field in msgspec.structs.fields(cls):
        (hint,) = [arg for arg in typing.get_args(hints[field.name]) if arg is not type(None)] or [
            hints[field.name]
        ]
        if isinstance(hint, type) and issubclass(hint, msgspec.Struct):
            paths += _leaf_paths(hint, (*prefix, field.name))
        else:
            paths.append((*prefix, field.name))
    return paths


CASE_LEAVES = (*_leaf_paths(Case), ("needs_info",))


def test_values_are_the_attributes_of_every_field_of_every_emulated_case() -> None:
    emulator = Emulator(cases=600, seed=11, api_key="k")
    with httpx.Client(transport=emulator.transport(), base_url="http://e", headers={"XApiKey": "k"}) as http:
        bodies = [
            http.get("/cases", params={"Page": n, "PageSize": 100, "includeTestCases": "true"}).content
            for n in range(1, 7)
        ]
    compared = 0
    for body in bodies:
        page = CasePage.from_json(body)
        values_page = CaseValuesPage.of(page, CASE_LEAVES)
        assert values_page.page == page.page
        for case, values in zip(page.cases, values_page.cases, strict=True):
            assert values == tuple(types.attribute(case, path) for path in CASE_LEAVES)
            assert any(value is not None for value in values[-20:])
            compared += 1
    assert compared == 600
    assert len(CASE_LEAVES) > 80  # every nested field, bank account and partner too


def test_values_of_absent_objects_are_none_and_of_absent_fields_their_defaults() -> None:
    (values,) = CaseValuesPage.of(CasePage.from_api({"cases": [_case()]}), CASE_LEAVES).cases
    assert values == tuple(types.attribute(Case.from_api(_case()), path) for path in CASE_LEAVES)
    assert values[CASE_LEAVES.index(("debtor", "name"))] is None
    assert values[CASE_LEAVES.index(("interest_fees",))] == Decimal(0)
    assert CaseValuesPage.of(CasePage.from_api({}), CASE_LEAVES) == CaseValuesPage(
        page=types.PageInfo(), cases=()
    )


MALFORMED = [
    ([], "CasePage: Expected `object`, got `array`."),
    ({"page": []}, "CasePage.page: Expected `object | null`, got `array`."),
    ({"page": {"totalPages": "3"}}, "CasePage.page.totalPages: Expected `int`, got `str`."),
    ({"cases": {}}, "CasePage.cases: Expected `array | null`, got `object`."),
    ({"cases": [7]}, "CasePage.cases[0]: Expected `object`, got `int`."),
    ({"cases": [{"grossAmount": 1, "remainder": 1}]}, "CasePage.cases[0].id is missing."),
    ({"cases": [_case(grossAmount=True)]}, "CasePage.cases[0].grossAmount: Expected `decimal`, got `bool`."),
    (
        {"cases": [_case(), _case(debtor="Ann")]},
        "CasePage.cases[1].debtor: Expected `object | null`, got `str`.",
    ),
    (
        {"cases": [_case(debtor={"name": 42})]},
        "CasePage.cases[0].debtor.name: Expected `str | null`, got `int`.",
    ),
    ({"cases": [_case(isTestCase="yes")]}, "CasePage.cases[0].isTestCase: Expected `bool`, got `str`."),
    ({"cases": [_case(dateUpdated="yesterday")]}, "CasePage.cases[0].dateUpdated: Invalid RFC3339"),
    ({"cases": [_case(dateCreated=20240101)]}, "CasePage.cases[0].dateCreated: Expected `datetime | null`"),
    ({"cases": [_case(lifecycle=3)]}, "CasePage.cases[0].lifecycle: Expected `str | null`, got `int`."),
    ({"cases": [_case(validation={"needsInfo": "no"})]}, "CasePage.cases[0].validation.needsInfo: Expected"),
    (
        {"cases": [_case(creditor={"division": {"id": 5}})]},
        "CasePage.cases[0].creditor.division.id: Expected",
    ),
    # Fields the sync does not keep are checked all the same.
    ({"cases": [_case(bankAccount={"id": "20"})]}, "CasePage.cases[0].bankAccount.id: Expected `int | null`"),
    ({"cases": [_case(collectionPartner={"surveyCadenceMode": 1.5})]}, "collectionPartner.surveyCadenceMode"),
    ({"cases": [_case(signingHandoff=[])]}, "CasePage.cases[0].signingHandoff: Expected `object | null`"),
]


@pytest.mark.parametrize(("data", "words"), MALFORMED)
def test_a_malformed_page_is_a_decode_error_naming_the_field(data: object, words: str) -> None:
    with pytest.raises(DecodeError) as caught:
        CasePage.from_json(json.dumps(data).encode())
    assert words in str(caught.value)
