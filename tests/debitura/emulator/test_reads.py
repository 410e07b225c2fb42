"""Read operations: the partner, the team, listing, sorting, filtering and looking up cases."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from debitura.emulator import Emulator
from debitura.emulator.model import LIFECYCLES
from debitura.emulator.server import EmulatorServer

SORT_FIELDS = {
    "DateCreated": "dateCreated",
    "DateUpdated": "dateUpdated",
    "DateFinished": "dateFinished",
    "DateCollectionStarted": "dateCollectionStarted",
    "DueDate": "dueDate",
    "Date": "date",
    "GrossAmount": "grossAmount",
    "Remainder": "remainder",
    "InterestFees": "interestFees",
    "CollectionFees": "collectionFees",
    "ReminderFees": "reminderFees",
}


def all_cases(api: httpx.Client, **params: str | int) -> list[dict[str, Any]]:
    return api.get("/cases", params={"PageSize": 100, **params}).json()["cases"]


def test_me_returns_the_partner_profile_with_revenue_shares(api: httpx.Client) -> None:
    me = api.get("/me").json()

    assert me["preLegalRevenueShare"] == 0.4
    assert me["legalRevenueShare"] == 0.2


def test_users_lists_only_active_team_members(api: httpx.Client, emulator: Emulator) -> None:
    users = api.get("/users").json()

    active = [u for u in emulator.state.users.values() if u.active]
    assert [u["email"] for u in users["users"]] == [u.email for u in active]
    assert users["page"]["totalResults"] == len(active) < len(emulator.state.users)
    assert users["page"]["pageSize"] == 50


def test_users_page_size_above_100_is_refused(api: httpx.Client) -> None:
    assert api.get("/users", params={"PageSize": 101}).status_code == 400


def test_cases_page_defaults_to_ten_and_hides_test_cases(api: httpx.Client, emulator: Emulator) -> None:
    body = api.get("/cases").json()

    visible = [c for c in emulator.state.cases.values() if not c.is_test]
    assert body["page"] == {
        "totalResults": len(visible),
        "pageSize": 10,
        "currentPage": 1,
        "responseCount": 10,
        "totalPages": (len(visible) + 9) // 10,
    }
    assert not any(c["isTestCase"] for c in body["cases"])


def test_include_test_cases_shows_them(api: httpx.Client, emulator: Emulator) -> None:
    cases = all_cases(api, includeTestCases="true")

    assert len(cases) == len(emulator.state.cases)
    assert any(c["isTestCase"] for c in cases)


def test_pages_partition_the_cases_without_overlap(api: httpx.Client) -> None:
    pages = [api.get("/cases", params={"PageSize": 7, "Page": n}).json() for n in range(1, 9)]

    ids = [c["id"] for page in pages for c in page["cases"]]
    assert len(ids) == len(set(ids)) == pages[0]["page"]["totalResults"]
    assert pages[-1]["page"]["responseCount"] == 0


@pytest.mark.parametrize("params", [{"PageSize": 101}, {"PageSize": 0}, {"Page": 0}, {"Page": "x"}])
def test_out_of_range_paging_is_a_400(api: httpx.Client, params: dict[str, str | int]) -> None:
    response = api.get("/cases", params=params)

    assert response.status_code == 400
    assert response.json()["businessErrors"][0]["type"] == "InvalidParameter"


@pytest.mark.parametrize(("field", "key"), SORT_FIELDS.items())
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_every_documented_sort_field_orders_the_cases(
    api: httpx.Client, field: str, key: str, direction: str
) -> None:
    values = [c[key] for c in all_cases(api, Sort=f"{field}:{direction}")]

    present = [v for v in values if v is not None]
    assert present == sorted(present, reverse=direction == "desc")
    # Like SQL Server, empty values come first ascending and last descending.
    nulls = [v is None for v in values]
    assert nulls == sorted(nulls, reverse=direction == "asc")


def test_lifecycle_and_close_code_sort_by_enum_order(api: httpx.Client) -> None:
    order = list(LIFECYCLES.values())

    lifecycles = [order.index(c["lifecycle"]) for c in all_cases(api, Sort="Lifecycle")]
    codes = [c["closeCode"] for c in all_cases(api, Sort="CloseCode:desc,DateCreated")]

    assert lifecycles == sorted(lifecycles)
    assert codes[-1] is None
    assert codes[0] is not None


def test_multi_field_sort_with_unknown_fields_ignored(api: httpx.Client) -> None:
    cases = all_cases(api, Sort="Nonsense:asc,Lifecycle:asc,GrossAmount:desc")

    order = list(LIFECYCLES.values())
    keys = [(order.index(c["lifecycle"]), -Decimal(str(c["grossAmount"]))) for c in cases]
    assert keys == sorted(keys)


@pytest.mark.parametrize("spelling", ["Active", "active", "ACTIVE"])
def test_status_filter_is_case_insensitive(api: httpx.Client, spelling: str) -> None:
    assert {c["lifecycle"] for c in all_cases(api, Statuses=spelling)} == {"Active"}


def test_status_filter_accepts_description_form_repeated_or_comma_separated(api: httpx.Client) -> None:
    repeated = api.get(
        "/cases", params=[("Statuses", "Pending Verification"), ("Statuses", "closed"), ("PageSize", 100)]
    )
    comma = all_cases(api, Statuses="PendingVerification,Closed")

    assert {c["lifecycle"] for c in comma} == {"Pending Verification", "Closed"}
    assert [c["id"] for c in repeated.json()["cases"]] == [c["id"] for c in comma]


def test_unknown_status_is_a_400(api: httpx.Client) -> None:
    assert api.get("/cases", params={"Statuses": "Sleeping"}).status_code == 400


def test_ids_debtor_and_division_filters(api: httpx.Client, emulator: Emulator) -> None:
    cases = [c for c in emulator.state.cases.values() if not c.is_test]
    shared = next(c.debtor for c in cases if sum(o.debtor is c.debtor for o in cases) > 1)
    division = next(c.division for c in cases if c.division)

    by_ids = all_cases(api, Ids=f"{cases[0].id},{cases[1].id}")
    by_debtor = all_cases(api, DebtorIds=shared.id)
    by_division = all_cases(api, DivisionIds=division.id)

    assert {c["id"] for c in by_ids} == {cases[0].id, cases[1].id}
    assert len(by_debtor) > 1
    assert {c["debtor"]["name"] for c in by_debtor} == {shared.name}
    assert {c["creditorDivisionId"] for c in by_division} == {division.id}


def test_malformed_guid_filter_is_a_400(api: httpx.Client) -> None:
    assert api.get("/cases", params={"Ids": "not-a-guid"}).status_code == 400


def test_case_is_found_by_id_and_by_reference(api: httpx.Client, emulator: Emulator) -> None:
    case = next(iter(emulator.state.cases.values()))

    assert api.get(f"/cases/{case.id}").json()["reference"] == case.reference
    assert api.get(f"/cases/case-reference/{case.reference.lower()}").json()["id"] == case.id


def test_unknown_case_is_a_404_and_a_bad_id_a_400(api: httpx.Client) -> None:
    assert api.get("/cases/00000000-0000-4000-8000-000000000000").status_code == 404
    assert api.get("/cases/NOPE1234-x").status_code == 400
    assert api.get("/cases/case-reference/NOPE1234").status_code == 404


def test_partner_reference_lookups(api: httpx.Client, emulator: Emulator) -> None:
    started = [c for c in emulator.state.cases.values() if c.partner_reference and not c.is_test][:3]
    references = [c.partner_reference or "" for c in started]

    single = api.get(f"/cases/by-partner-reference/{references[0]}")
    batch = api.get(
        "/cases/by-partner-reference", params={"references": ",".join([*references, "UNKNOWN-1"])}
    )

    assert single.json()["id"] == started[0].id
    assert {ref: case["id"] for ref, case in batch.json().items()} == {
        c.partner_reference: c.id for c in started
    }
    assert api.get("/cases/by-partner-reference/UNKNOWN-1").status_code == 404


def test_batch_partner_reference_lookup_takes_at_most_100(api: httpx.Client) -> None:
    references = ",".join(f"REF-{n}" for n in range(101))

    assert api.get("/cases/by-partner-reference", params={"references": references}).status_code == 400
    assert api.get("/cases/by-partner-reference").status_code == 400


def test_creditor_reference_lookup_is_scoped_to_the_creditor(api: httpx.Client, emulator: Emulator) -> None:
    case = next(c for c in emulator.state.cases.values() if not c.is_test)
    other = next(c for c in emulator.state.creditors.values() if c is not case.creditor)

    found = api.get(
        "/cases/by-creditor-reference",
        params={"reference": case.creditor_reference, "creditorId": case.creditor.id},
    )
    elsewhere = api.get(
        "/cases/by-creditor-reference", params={"reference": case.creditor_reference, "creditorId": other.id}
    )

    assert found.json()["id"] == case.id
    assert elsewhere.status_code == 404
    assert api.get("/cases/by-creditor-reference", params={"reference": "x"}).status_code == 400


def test_case_children_are_served(api: httpx.Client, emulator: Emulator) -> None:
    case = max(emulator.state.cases.values(), key=lambda c: (len(c.payments), len(c.chats)))

    chats = api.get(f"/cases/{case.id}/chats").json()
    payments = api.get(f"/cases/{case.id}/payments").json()
    timeline = api.get(f"/cases/{case.id}/timeline").json()

    assert [m["dateCreated"] for m in chats] == sorted(m["dateCreated"] for m in chats)
    assert [p["date"] for p in payments] == sorted((p["date"] for p in payments), reverse=True)
    assert len(payments) == len(case.payments) > 0
    assert timeline["items"][0]["type"] == "Assigned"


def test_exclusive_period_is_a_404_when_there_is_none(api: httpx.Client, emulator: Emulator) -> None:
    pending = next(c for c in emulator.state.cases.values() if c.lifecycle == "PendingVerification")
    started = next(c for c in emulator.state.cases.values() if c.exclusive and c.exclusive.extensions)

    period = api.get(f"/cases/{started.id}/exclusive-period").json()

    assert api.get(f"/cases/{pending.id}/exclusive-period").status_code == 404
    assert len(period["extensions"]) == len(started.exclusive.extensions)  # type: ignore[union-attr]
    assert period["currentEndDate"] == period["extensions"][-1]["newEndDate"]


def test_validation_lists_what_the_creditor_must_supply(api: httpx.Client, emulator: Emulator) -> None:
    case = next(c for c in emulator.state.cases.values() if c.lifecycle == "NeedsAdditionalDetails")

    summary = api.get(f"/cases/{case.id}").json()["validation"]
    detail = api.get(f"/cases/{case.id}/validation").json()

    assert summary == {"needsInfo": True}
    assert len(detail["items"]) == len(case.validation_items) > 0


def test_server_serves_the_same_emulator_over_loopback(emulator_server: EmulatorServer) -> None:
    with httpx.Client(base_url=emulator_server.url, headers={"XApiKey": "test-api-key"}) as client:
        response = client.get("/cases", params={"PageSize": 5})

    assert response.status_code == 200
    assert len(response.json()["cases"]) == 5
    assert emulator_server.emulator.stats()["requests"]["GET /cases"] == 1


def test_a_change_reorders_the_next_listing(api: httpx.Client, emulator: Emulator) -> None:
    params: dict[str, str | int] = {"Sort": "DateUpdated:desc", "PageSize": 3}
    before = api.get("/cases", params=params).json()["cases"]
    oldest = api.get("/cases", params={"Sort": "DateUpdated:asc", "PageSize": 1}).json()["cases"][0]

    api.post(f"/cases/{oldest['id']}/files", files={"File": ("late.txt", b"late")})

    after = api.get("/cases", params=params).json()["cases"]
    assert after[0]["id"] == oldest["id"]
    assert [c["id"] for c in after[1:]] == [c["id"] for c in before[:2]]


def test_seeded_data_never_lies_in_the_future():
    from datetime import UTC, datetime

    from debitura.emulator import Emulator

    emu = Emulator(cases=2000, seed=42, api_key="k")
    now = datetime.now(UTC)
    for case in emu.state.cases.values():
        moments = [case.date_created, case.date_updated]
        moments += [p.date for p in case.payments] + [p.date_created for p in case.payments]
        moments += [t.date for t in case.timeline] + [c.date_created for c in case.chats]
        moments += [f.date_created for f in case.files]
        assert max(moments) <= now, case.reference


def test_seeded_cases_do_not_share_update_stamps():
    # Moments clamped to one instant gave hundreds of cases the same dateUpdated, so a
    # newest-first walk after a few changes could not stop at the first page.
    emu = Emulator(cases=2000, seed=42, api_key="k")
    newest = sorted((case.date_updated for case in emu.state.cases.values()), reverse=True)[:200]
    assert len(set(newest)) == len(newest)
    assert newest[0] - newest[74] > timedelta(minutes=2)
