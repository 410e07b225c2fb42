"""POST and GET /managed-cases...: cases the partner submits as managing partner.

A test case (`isTest`) is routed to the caller itself, as Debitura's routing isolation does, so it
also shows in GET /cases with includeTestCases and the /test/ operations can drive it. A
production case goes to a partner in Debitura's network (one invented partner here) and is only
readable through /managed-cases. Payments through /managed-cases are for test cases only.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from . import dto, names, operations
from .api import DebituraApi, case_query, uuid_param
from .errors import ApiError, not_found
from .http import Request, Response, RouteTable, json_response
from .managed_payments import managed_payment_create, test_only
from .model import CENT, ZERO, Case, Creditor, Debtor, Partner, TimelineItem, money
from .operations import Body
from .pricing import USD_RATES, age_uplift, standard_success_fee
from .state import State

route = RouteTable()

TEXT_MAX = 4000
CREDITOR_REFERENCE_MAX = 50
TAG_MAX = 100
DEBTOR_TYPES = ("Company", "Person")
_COUNTRIES = {c.alpha2: c for c in names.COUNTRIES}
_COUNTRY_NAMES = {c.name.lower(): c for c in names.COUNTRIES}


def network_partner(state: State) -> Partner:
    """The partner in Debitura's network that collects production cases submitted by the caller."""
    own = state.partner
    return Partner(
        id="5b0e7d2a-1c4f-4e8a-9d6b-3f2a1c0e9b77",
        company_name="Nordic Network Collections AB",
        registration_number="5566778899",
        vat_number="SE556677889901",
        address="Kungsgatan 12",
        zip_code="111 43",
        city="Stockholm",
        country="Sweden",
        office_email="cases@network-collections.example",
        office_phone="+46 8 555 0100",
        public_site="https://network-collections.example",
        pre_legal_revenue_share=own.pre_legal_revenue_share,
        legal_revenue_share=own.legal_revenue_share,
        reference_prefix="NNC",
    )


def _debtor_fields(body: Body, payload: Any) -> tuple[dict[str, str | None], names.Country | None, str]:
    """The debtor's fields, its known country (None when Debitura's table lacks it) and alpha-2 code."""
    if not isinstance(payload, dict):
        body.fail("debtor", "is required.", "MissingField")
        return {}, None, ""
    inner = Body(payload)
    fields = {
        key: inner.text(key)
        for key in (
            "contactPerson",
            "companyRegistrationNumber",
            "address",
            "zipCode",
            "city",
            "state",
            "stateAlpha2",
            "countryAlpha2",
            "country",
            "email",
            "phone",
        )
    }
    fields["type"] = inner.choice("type", DEBTOR_TYPES, required=True)
    fields["name"] = inner.text("name", required=True)
    if fields["type"] == "Company" and not (fields["contactPerson"] or "").strip():
        inner.fail("contactPerson", "is required for a Company debtor.", "MissingField")
    alpha2 = (fields["countryAlpha2"] or "").strip().upper()
    country = _COUNTRIES.get(alpha2) if alpha2 else _COUNTRY_NAMES.get((fields["country"] or "").lower())
    if not alpha2 and not fields["country"]:
        inner.fail("country", "country or countryAlpha2 is required.", "MissingField")
    elif alpha2 and (len(alpha2) != 2 or not alpha2.isalpha()):
        inner.fail("countryAlpha2", "must be an ISO 3166-1 alpha-2 code.")
    elif not alpha2 and country is None:
        inner.fail("country", f"'{fields['country']}' is not a country Debitura knows.")
    alpha2 = alpha2 or (country.alpha2 if country else "")
    if alpha2 == "US" and not (fields["stateAlpha2"] or "").strip():
        inner.fail("stateAlpha2", "is required for debtors in the United States.", "MissingField")
    for kind, message in inner.problems:
        body.problems.append((kind, f"debtor.{message}"))
    return fields, country, alpha2


def create_case(state: State, payload: dict[str, Any]) -> Case:
    """Check a CreateManagedCaseRequest and create the case (400 per field, 422 on routing)."""
    body = Body(payload)
    company = body.text("creditorCompanyName", required=True)
    creditor_alpha2 = body.text("creditorCountryAlpha2", max_length=2)
    creditor_country = body.text("creditorCountry")
    if not creditor_alpha2 and not creditor_country:
        body.fail(
            "creditorCountryAlpha2", "creditorCountryAlpha2 or creditorCountry is required.", "MissingField"
        )
    currency = body.text("currencyCode", required=True)
    if currency is not None and currency.upper() not in USD_RATES:
        body.fail("currencyCode", f"'{currency}' is not a currency Debitura collects in.")
    invoice_date = body.moment("date", required=True)
    due_date = body.moment("dueDate")
    comments = body.text("comments", max_length=TEXT_MAX)
    description = body.text("claimDescription", max_length=TEXT_MAX)
    creditor_reference = body.text("creditorReference", max_length=CREDITOR_REFERENCE_MAX)
    amount = body.amount("amountToRecover", minimum=CENT, required=True)
    is_test = body.flag("isTest")
    tag = body.text("tag", max_length=TAG_MAX)
    partner_id = body.guid("collectionPartnerId")
    debtor, country, alpha2 = _debtor_fields(body, payload.get("debtor"))
    body.check()
    assert company
    assert currency
    assert invoice_date
    assert amount is not None
    network = network_partner(state)
    to_self = is_test or (partner_id or "").lower() == state.partner.id
    if partner_id and not to_self and partner_id.lower() != network.id:
        raise _business(
            422, "The chosen collection partner is not active for this jurisdiction.", "PartnerUnavailable"
        )
    if country is None and not to_self:
        raise _business(422, f"No collection partner covers the jurisdiction {alpha2}.", "NoPartnerAvailable")
    return _build(
        state,
        creditor=_creditor(state, company, creditor_alpha2, creditor_country),
        debtor=_debtor(state, debtor, country, alpha2),
        currency=currency.upper(),
        amount=money(amount),
        invoice_date=invoice_date,
        due_date=due_date or invoice_date + timedelta(days=14),
        texts=(comments, description, creditor_reference),
        is_test=is_test,
        tag=tag,
        collector=None if to_self else network,
    )


def _business(status: int, message: str, kind: str) -> ApiError:
    """BusinessErrorResponseApiDTO, the 422 body of POST /managed-cases."""
    error = {"type": kind, "message": message, "solutionUrl": None}
    handoff = {"combinedSigningUrl": None}
    return ApiError(status, message, kind, body={"businessErrors": [error], "signingHandoff": handoff})


def _creditor(state: State, company: str, alpha2: str | None, country: str | None) -> Creditor:
    # Debitura creates a fresh creditor record for every submission (no duplicate detection).
    known = _COUNTRIES.get((alpha2 or "").upper()) or _COUNTRY_NAMES.get((country or "").lower())
    slug = "".join(ch for ch in company.lower() if ch.isalnum())[:20] or "creditor"
    return Creditor(
        id=state.ids.uuid(),
        company_name=company,
        registration_number="",
        office_email=f"accounts@{slug}.example",
        office_phone="",
        address="",
        city="",
        zip_code="",
        state=None,
        country=known.name if known else (country or (alpha2 or "").upper()),
        contact_first_name=company,
        contact_last_name="",
        contact_number=next(state.seeder.numbers),
    )


def _debtor(
    state: State, fields: dict[str, str | None], country: names.Country | None, alpha2: str
) -> Debtor:
    return Debtor(
        id=state.ids.uuid(),
        type=fields["type"] or "Company",
        name=fields["name"] or "",
        contact_person=fields["contactPerson"],
        registration_number=fields["companyRegistrationNumber"],
        address=fields["address"] or "",
        zip_code=fields["zipCode"] or "",
        city=fields["city"] or "",
        state=fields["state"],
        state_alpha2=fields["stateAlpha2"],
        country_alpha2=alpha2,
        country=country.name if country else (fields["country"] or alpha2),
        email=fields["email"],
        phone=fields["phone"],
    )


def _build(
    state: State,
    *,
    creditor: Creditor,
    debtor: Debtor,
    currency: str,
    amount: Decimal,
    invoice_date: datetime,
    due_date: datetime,
    texts: tuple[str | None, str | None, str | None],
    is_test: bool,
    tag: str | None,
    collector: Partner | None,
) -> Case:
    comments, description, creditor_reference = texts
    now = state.clock.tick()
    uplift = age_uplift(due_date, now)
    case = Case(
        id=state.ids.uuid(),
        reference=state.ids.reference(),
        creditor=creditor,
        division=None,
        debtor=debtor,
        bank_account=state.seeder.bank_account(creditor, currency, debtor.country_alpha2 or "DK"),
        creditor_reference=creditor_reference or "",
        creditor_comments=comments,
        claim_description=description or "",
        claim_type="Unpaid Invoice",
        dispute_status=None,
        currency=currency,
        gross_amount=amount,
        interest_fees=ZERO,
        reminder_fees=ZERO,
        collection_fees=ZERO,
        date=invoice_date,
        due_date=due_date,
        date_created=now,
        date_updated=now,
        lifecycle="PendingVerification",
        success_fee=standard_success_fee(amount, currency, debtor.country_alpha2, uplift),
        age_uplift=uplift,
        is_test=is_test,
        managed=True,
        tag=tag,
        collector=collector,
    )
    who = (collector or state.partner).company_name
    case.timeline.append(
        TimelineItem(now, "Assigned", "Case submitted", f"Submitted and assigned to {who}.", "System", None)
    )
    state.managed[case.id] = case
    if collector is None:
        state.add_case(case)
        state.fire("case.assigned", case)
    return case


class ManagedCasesApi:
    """The /managed-cases operations, sharing the API's idempotency and case responses."""

    route_table = route

    def __init__(self, api: DebituraApi) -> None:
        self.api = api

    @property
    def state(self) -> State:
        return self.api.emulator.state

    def path_case(self, request: Request) -> Case:
        found = self.state.managed.get(uuid_param(request.params.get("id"), "id"))
        if found is None:
            raise not_found("Case not found or not submitted by you as managing partner.")
        return found

    @route("POST", "/managed-cases")
    def create_managed_case(self, request: Request) -> Response:
        def work() -> Response:
            payload = request.json()
            with self.state.lock:
                return self.api.case_response(create_case(self.state, payload))

        try:
            return self.api.idempotent(request, work)
        except ApiError as error:
            # This operation's 422 body is BusinessErrorResponseApiDTO, an idempotency conflict's too.
            if error.status == 422 and error.custom_body is None:
                raise _business(422, error.message, error.kind or "IdempotencyConflict") from None
            raise

    @route("GET", "/managed-cases")
    def list_managed_cases(self, request: Request) -> Response:
        # Cases the caller submitted, test cases included (the operation has no includeTestCases).
        query = case_query(request, include_test_cases=True)
        with self.state.lock:
            matching = self.state.ordered(query, self.state.managed.values())
            start = (query.page - 1) * query.page_size
            return self.api.case_page(query, len(matching), matching[start : start + query.page_size])

    @route("GET", "/managed-cases/{id}")
    def get_managed_case(self, request: Request) -> Response:
        with self.state.lock:
            return self.api.case_response(self.path_case(request))

    @route("GET", "/managed-cases/case-reference/{caseReference}")
    def get_managed_case_by_reference(self, request: Request) -> Response:
        reference = request.params["caseReference"].strip().upper()
        with self.state.lock:
            for case in self.state.managed.values():
                if case.reference == reference:
                    return self.api.case_response(case)
        raise not_found("No case with this reference was submitted by you as managing partner.")

    @route("GET", "/managed-cases/{id}/timeline")
    def get_managed_timeline(self, request: Request) -> Response:
        with self.state.lock:
            return json_response(200, dto.timeline(self.path_case(request)))

    @route("GET", "/managed-cases/{id}/chats")
    def list_managed_chats(self, request: Request) -> Response:
        with self.state.lock:
            case = self.path_case(request)
            return json_response(200, [dto.chat(m) for m in sorted(case.chats, key=lambda m: m.date_created)])

    @route("GET", "/managed-cases/{id}/payments")
    def list_managed_payments(self, request: Request) -> Response:
        with self.state.lock:
            case = self.path_case(request)
            newest_first = sorted(case.payments, key=lambda p: (p.date, p.date_created), reverse=True)
            return json_response(200, [dto.payment(p, case) for p in newest_first])

    @route("GET", "/managed-cases/{id}/files")
    def list_managed_files(self, request: Request) -> Response:
        with self.state.lock:
            files = list(self.path_case(request).files)
        signer = self.api.emulator.file_links
        return json_response(200, [dto.case_file(f, signer.url(request.base_url, f.id)) for f in files])

    @route("POST", "/managed-cases/{id}/payments")
    def create_managed_payment(self, request: Request) -> Response:
        payload = request.json()
        with self.state.lock:
            return json_response(200, managed_payment_create(self.state, self.path_case(request), payload))

    @route("PUT", "/managed-cases/{id}/payments/{paymentId}")
    def update_managed_payment(self, request: Request) -> Response:
        payload = request.json()
        with self.state.lock:
            case = self.path_case(request)
            payment = operations.payment_of(
                self.state, case, uuid_param(request.params["paymentId"], "paymentId")
            )
            test_only(case, "edit payments on")
            return json_response(200, operations.payment_update(self.state, case, payment, payload))

    @route("DELETE", "/managed-cases/{id}/payments/{paymentId}")
    def delete_managed_payment(self, request: Request) -> Response:
        reopen = request.bool_arg("reopenCaseIfNeeded")
        with self.state.lock:
            case = self.path_case(request)
            payment = operations.payment_of(
                self.state, case, uuid_param(request.params["paymentId"], "paymentId")
            )
            test_only(case, "delete payments on")
            operations.payment_delete(self.state, case, payment, reopen=reopen)
        return Response(204)
