"""The gateway: the only code that speaks HTTP to Debitura's Collection Partner API.

One `DebituraClient` per process (`get_client()`) holds one pooled httpx.Client with the base URL,
key, timeouts and headers set once. Each API operation is one typed method; every method checks
its input first (debitura.validation), waits for a rate-limit slot (debitura.throttle), sends,
and turns the answer into a typed result (debitura.types) or an error from debitura.errors.

Longer than the house's 400 lines on purpose: the class is the API's whole surface, one typed
method per operation, and every method shares the plumbing at the end.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import quote

import httpx

from debitura import validation
from debitura.enums import AdvanceTarget, CloseCode, DocumentType, WebhookEventType
from debitura.errors import (
    Conflict,
    LinkRefused,
    NotFound,
    ResponseInvalid,
    TransientError,
    error_for_response,
)
from debitura.serialization import dumps, format_date, format_datetime, loads
from debitura.throttle import MemoryThrottle, Throttle, throttle_for
from debitura.types import (
    AdvanceResult,
    ApiStruct,
    Case,
    CaseFile,
    CaseFilters,
    CasePage,
    CaseValidationStatus,
    CaseValuesPage,
    Chat,
    CloseResult,
    DecodeError,
    ExclusivePeriod,
    FeesResult,
    FeesUpdate,
    FireResult,
    IngestionJob,
    IngestionJobCreated,
    IngestionNote,
    ManagedCaseInput,
    ManagedPaymentCreated,
    Me,
    Note,
    NotJson,
    Payment,
    PaymentCreated,
    PaymentInput,
    PriceChangeConfirmation,
    ReplayResult,
    StartResult,
    Timeline,
    User,
    UserPage,
    Webhook,
    WebhookEvent,
    cases_from_json,
)

log = logging.getLogger(__name__)

M = TypeVar("M", bound=ApiStruct)

_READS = frozenset({"GET", "HEAD", "OPTIONS"})
_MAX_PAGE_SIZE = 100


def _version() -> str:
    try:
        return metadata.version("partnerportal")
    except metadata.PackageNotFoundError:
        return "0+unknown"


USER_AGENT = f"partnerportal/{_version()}"


class _ApiKeyAuth(httpx.Auth):
    """Adds XApiKey per request, so the key is not in the client's default headers or any repr."""

    def __init__(self, api_key: str) -> None:
        self._api_key = api_key

    def __repr__(self) -> str:
        return "_ApiKeyAuth(<redacted>)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["XApiKey"] = self._api_key
        yield request


@dataclass(frozen=True, slots=True)
class _Upload:
    """A file to stream: an open binary file, its name and size (None when unknown)."""

    stream: IO[bytes]
    name: str
    size: int | None
    close_after: bool


class FileDownload:
    """A file coming from a signed link: iterate for its bytes (64 KiB at a time), then `close()`.

    `content_type` and `size` are what the file host said; callers decide what to trust.
    """

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.content_type: str | None = response.headers.get("content-type")
        length = response.headers.get("content-length", "")
        # The bytes are iterated decoded: a compressed body's length is not the file's size.
        encoded = response.headers.get("content-encoding", "identity").lower() != "identity"
        self.size: int | None = int(length) if length.isdigit() and not encoded else None

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._response.iter_bytes(64 * 1024)
        except httpx.HTTPError as exc:
            raise TransientError("The file host dropped the download.", ambiguous=False) from exc

    def close(self) -> None:
        self._response.close()


class DebituraClient:
    """Typed access to every Debitura operation the portal uses, over one reused connection pool."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 20.0,
        connect_timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
        throttle: Throttle | None = None,
        event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None,
        retries: int = 2,
        max_retry_wait: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        file_hosts: Iterable[str] = (),
    ) -> None:
        if not api_key:
            raise ValueError("A Debitura API key is required.")
        self.base_url = base_url
        # Hosts of Debitura's signed file links besides the API's own (".example.net" = subdomains).
        self.file_hosts = tuple(host.strip().lower() for host in file_hosts if host.strip())
        self._throttle: Throttle = throttle if throttle is not None else MemoryThrottle()
        self._retries = retries
        self._max_retry_wait = max_retry_wait
        self._sleep = sleep
        self._now = now
        self._http = httpx.Client(
            base_url=base_url,
            auth=_ApiKeyAuth(api_key),
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            timeout=httpx.Timeout(timeout, connect=min(connect_timeout, timeout)),
            transport=transport,
            event_hooks={key: list(hooks) for key, hooks in (event_hooks or {}).items()},
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"DebituraClient(base_url={self.base_url!r})"

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> DebituraClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- Partner and team -----------------------------------------------------------------------

    def get_me(self) -> Me:
        """The partner profile behind the key; also the cheapest way to check a key works."""
        return self._fetch(Me, "GET", "/me")

    def list_users(self, *, page_size: int = _MAX_PAGE_SIZE) -> list[User]:
        """Every member of the partner's team, across all pages."""
        validation.check_paging(page=1, page_size=page_size)
        users: list[User] = []
        page = 1
        while True:
            answer = self._fetch(UserPage, "GET", "/users", params={"Page": page, "PageSize": page_size})
            users.extend(answer.users)
            if not answer.users or page >= (answer.page.total_pages if answer.page else 0):
                return users
            page += 1

    # --- Cases ----------------------------------------------------------------------------------

    def list_cases(
        self, filters: CaseFilters | None = None, *, page: int = 1, page_size: int = _MAX_PAGE_SIZE
    ) -> CasePage:
        """One page of the partner's cases matching `filters` (all of them when None)."""
        return self._fetch(CasePage, "GET", "/cases", params=self._case_params(filters, page, page_size))

    def list_case_values(
        self,
        paths: tuple[tuple[str, ...], ...],
        filters: CaseFilters | None = None,
        *,
        page: int = 1,
        page_size: int = _MAX_PAGE_SIZE,
    ) -> CaseValuesPage:
        """list_cases for bulk readers: each case as its values at attribute `paths` of Case
        (such as ("debtor", "name")), read in one pass per page (the sync)."""
        return CaseValuesPage.of(self.list_cases(filters, page=page, page_size=page_size), paths)

    def _case_params(self, filters: CaseFilters | None, page: int, page_size: int) -> dict[str, Any]:
        filters = filters or CaseFilters()
        validation.check_paging(page=page, page_size=page_size)
        params: dict[str, Any] = {
            "Page": page,
            "PageSize": page_size,
            "Statuses": validation.lifecycle_filter(filters.statuses),
            "Ids": list(filters.ids),
            "DebtorIds": list(filters.debtor_ids),
            "DivisionIds": list(filters.division_ids),
            "Sort": filters.sort,
            # Sent only when asked for, so a plain listing never touches test cases.
            "includeTestCases": True if filters.include_test_cases else None,
        }
        return {key: value for key, value in params.items() if value not in (None, [])}

    def iter_cases(
        self, filters: CaseFilters | None = None, *, page_size: int = _MAX_PAGE_SIZE
    ) -> Iterator[Case]:
        """Every matching case, fetching page after page as the caller iterates."""
        page = 1
        while True:
            result = self.list_cases(filters, page=page, page_size=page_size)
            yield from result.cases
            if not result.cases or not result.page.has_next:
                return
            page += 1

    def get_case(self, case_id: str) -> Case:
        """One case by its Debitura id."""
        return self._fetch(Case, "GET", "/cases/{id}", path={"id": case_id})

    def get_case_by_reference(self, reference: str) -> Case:
        """One case by Debitura's 8-character reference (e.g. "Q8OAXF3W")."""
        validation.check_reference("caseReference", reference)
        return self._fetch(
            Case, "GET", "/cases/case-reference/{caseReference}", path={"caseReference": reference}
        )

    def get_case_by_partner_reference(self, reference: str) -> Case:
        """One case by the agency's own reference (exact match)."""
        validation.check_reference("reference", reference)
        return self._fetch(
            Case, "GET", "/cases/by-partner-reference/{reference}", path={"reference": reference}
        )

    def get_cases_by_partner_references(self, references: Iterable[str]) -> dict[str, Case]:
        """Cases for up to 100 partner references; unknown references are simply absent."""
        wanted = list(references)
        validation.check_partner_references(wanted)
        return self._call(
            "GET",
            "/cases/by-partner-reference",
            params={"references": ",".join(wanted)},
            decode=cases_from_json,
        )

    def get_case_by_creditor_reference(self, reference: str, *, creditor_id: str) -> Case:
        """One case by the creditor's own reference, which is unique per creditor only."""
        validation.check_reference("reference", reference)
        return self._fetch(
            Case,
            "GET",
            "/cases/by-creditor-reference",
            params={"reference": reference, "creditorId": creditor_id},
        )

    def get_timeline(self, case_id: str) -> Timeline:
        """A case's timeline (notes are read back from here) and its engagement phase."""
        return self._fetch(Timeline, "GET", "/cases/{id}/timeline", path={"id": case_id})

    def get_exclusive_period(self, case_id: str) -> ExclusivePeriod | None:
        """The exclusive period chain, or None when Debitura has none (it answers 404 then)."""
        try:
            return self._fetch(ExclusivePeriod, "GET", "/cases/{id}/exclusive-period", path={"id": case_id})
        except NotFound:
            return None

    def get_case_validation(self, case_id: str) -> CaseValidationStatus:
        """Whether the case waits for information from the creditor, and which."""
        return self._fetch(CaseValidationStatus, "GET", "/cases/{id}/validation", path={"id": case_id})

    # --- Case actions ---------------------------------------------------------------------------

    def start_case(
        self,
        case_id: str,
        *,
        welcome_message: str,
        user_email: str,
        assigned_user_email: str | None = None,
        partner_reference: str | None = None,
        interest_fees: Decimal | None = None,
        reminder_fees: Decimal | None = None,
        collection_fees: Decimal | None = None,
    ) -> StartResult:
        """Accept a Pending Verification case: it becomes Active and the creditor gets the message.

        Not idempotent: after an ambiguous failure, look at the case before sending again.
        """
        fees = {
            "interestFees": interest_fees,
            "reminderFees": reminder_fees,
            "collectionFees": collection_fees,
        }
        validation.check_start(
            welcome_message=welcome_message,
            user_email=user_email,
            assigned_user_email=assigned_user_email,
            partner_reference=partner_reference,
            fees=fees,
        )
        body = {
            "welcomeMessage": welcome_message,
            "userEmail": user_email,
            "assignedUserEmail": assigned_user_email,
            "collectionPartnerReference": partner_reference,
            **fees,
        }
        return self._fetch(StartResult, "POST", "/cases/{id}/start", path={"id": case_id}, body=body)

    def close_case(self, case_id: str, *, close_code: CloseCode, comment: str | None = None) -> CloseResult:
        """Close a case with a reason (Other needs a comment). Not idempotent."""
        validation.check_close(close_code=close_code, comment=comment)
        body = {"closeCode": close_code.value, "comment": comment}
        return self._fetch(CloseResult, "POST", "/cases/{id}/close", path={"id": case_id}, body=body)

    def create_note(self, case_id: str, *, description: str, event_date: datetime | None = None) -> Note:
        """Add a note (shared with the creditor), optionally back-dated. Not idempotent."""
        validation.check_note(description=description, event_date=event_date, now=self._now())
        body = {"description": description, "eventDate": format_datetime(event_date) if event_date else None}
        return self._fetch(Note, "POST", "/cases/{id}/notes", path={"id": case_id}, body=body)

    def update_fees(
        self,
        case_id: str,
        *,
        interest_fees: Decimal,
        reminder_fees: Decimal,
        collection_fees: Decimal,
        gross_amount: Decimal | None = None,
        confirm_price_change: bool = False,
        keep_intentional_rate: bool = False,
    ) -> FeesResult:
        """Replace the fees (and optionally the principal).

        A principal change that moves the success fee answers with `confirmation_required` and
        the proposed rate instead of applying; resend with `confirm_price_change=True` (standard
        rate) or `keep_intentional_rate=True` (negotiated rate).
        """
        amounts = {
            "interestFees": interest_fees,
            "reminderFees": reminder_fees,
            "collectionFees": collection_fees,
            "grossAmount": gross_amount,
        }
        validation.check_fees(amounts)
        body: dict[str, Any] = dict(amounts)
        if confirm_price_change:
            body["confirmPriceChange"] = True
        if keep_intentional_rate:
            body["keepIntentionalRate"] = True
        try:
            updated = self._fetch(FeesUpdate, "PUT", "/cases/{id}/fees", path={"id": case_id}, body=body)
        except Conflict as exc:
            if isinstance(exc.body, Mapping) and exc.body.get("confirmationRequired"):
                try:
                    confirmation = PriceChangeConfirmation.from_api(exc.body)
                except DecodeError as decode_error:
                    raise ResponseInvalid(f"/cases/{{id}}/fees: {decode_error}", status=409) from None
                return FeesResult(confirmation=confirmation)
            raise
        return FeesResult(updated=updated)

    # --- Chat -----------------------------------------------------------------------------------

    def list_chats(self, case_id: str) -> tuple[Chat, ...]:
        """The case chat, oldest first."""
        return self._fetch_list(Chat, "GET", "/cases/{id}/chats", path={"id": case_id})

    def send_chat(
        self, case_id: str, *, message: str, user_email: str, idempotency_key: str | None = None
    ) -> Chat:
        """Post a chat message as a team member; the same `idempotency_key` replays the first answer."""
        validation.check_chat(message=message, user_email=user_email, idempotency_key=idempotency_key)
        return self._fetch(
            Chat,
            "POST",
            "/cases/{id}/chats",
            path={"id": case_id},
            body={"message": message, "userEmail": user_email},
            idempotency_key=idempotency_key,
        )

    # --- Payments -------------------------------------------------------------------------------

    def list_payments(self, case_id: str) -> tuple[Payment, ...]:
        """The payments recorded on a case."""
        return self._fetch_list(Payment, "GET", "/cases/{id}/payments", path={"id": case_id})

    def create_payment(
        self,
        case_id: str,
        payment: PaymentInput,
        *,
        close_case: bool = False,
        create_unpaid_commission_follow_up: bool | None = None,
        idempotency_key: str | None = None,
    ) -> PaymentCreated:
        """Record a payment; `close_case` closes as Paid only if it settles the balance."""
        validation.check_payment(payment, now=self._now(), idempotency_key=idempotency_key)
        body = {
            **_payment_body(payment),
            "closeCase": close_case,
            "createUnpaidCommissionFollowUp": create_unpaid_commission_follow_up,
        }
        return self._fetch(
            PaymentCreated,
            "POST",
            "/cases/{id}/payments",
            path={"id": case_id},
            body=body,
            idempotency_key=idempotency_key,
        )

    def update_payment(
        self, case_id: str, payment_id: str, payment: PaymentInput, *, reopen_case_if_needed: bool = False
    ) -> Payment:
        """Replace a payment; a Paid case left with a balance answers Conflict unless reopening is allowed."""
        validation.check_payment(payment, now=self._now())
        body = {**_payment_body(payment), "reopenCaseIfNeeded": reopen_case_if_needed}
        return self._fetch(
            Payment,
            "PUT",
            "/cases/{id}/payments/{paymentId}",
            path={"id": case_id, "paymentId": payment_id},
            body=body,
        )

    def delete_payment(self, case_id: str, payment_id: str, *, reopen_case_if_needed: bool = False) -> None:
        """Delete a payment (invoiced payments are frozen: ValidationFailed)."""
        self._call(
            "DELETE",
            "/cases/{id}/payments/{paymentId}",
            path={"id": case_id, "paymentId": payment_id},
            params={"reopenCaseIfNeeded": reopen_case_if_needed},
        )

    # --- Files ----------------------------------------------------------------------------------

    def list_files(self, case_id: str) -> tuple[CaseFile, ...]:
        """The case's documents; their URLs expire after about an hour, so fetch again to refresh."""
        return self._fetch_list(CaseFile, "GET", "/cases/{id}/files", path={"id": case_id})

    def upload_file(
        self,
        case_id: str,
        file: IO[bytes] | str | os.PathLike[str],
        *,
        file_name: str | None = None,
        document_type: DocumentType | None = None,
        description: str | None = None,
    ) -> CaseFile:
        """Upload a document (always visible to the creditor), streamed rather than read into memory.

        Not idempotent and never retried here: the stream cannot be replayed.
        """
        upload = _open_upload(file, file_name)
        try:
            validation.check_upload(file_name=upload.name, size=upload.size, description=description)
            data = {
                "DocumentType": document_type.value if document_type else None,
                "Description": description,
            }
            return self._fetch(
                CaseFile,
                "POST",
                "/cases/{id}/files",
                path={"id": case_id},
                files={"File": (upload.name, upload.stream, "application/octet-stream")},
                data={key: value for key, value in data.items() if value is not None},
                retry=False,
            )
        finally:
            if upload.close_after:
                upload.stream.close()

    def open_file_download(self, url: str) -> FileDownload:
        """Start streaming a file from a signed link that `list_files` returned; close it when done.

        Only links to the API's own origin or to a configured file host (https) are followed, so
        a link can never point the portal at another machine (SSRF); redirects are not followed
        and the API key is not sent. LinkRefused: expired or tampered (list the files again), or
        not a link the gateway follows.
        """
        self._check_file_link(url)
        try:
            response = self._http.send(self._http.build_request("GET", url), auth=None, stream=True)
        except httpx.HTTPError as exc:
            raise _transport_error(exc, "GET", "signed file link") from exc
        log.info("debitura GET signed file link %s", response.status_code)
        if response.status_code == 200:
            return FileDownload(response)
        try:
            body = response.read()[:2000]
        finally:
            response.close()
        status = response.status_code
        if status in (401, 403, 404, 410):
            raise LinkRefused(
                "The file link was refused (it may have expired); list the files again.",
                status=status,
                body=body.decode("utf-8", "replace"),
            )
        if 300 <= status < 400:
            raise LinkRefused("The file link redirects elsewhere; it is not followed.", status=status)
        raise error_for_response(status, None, response.headers, method="GET", now=self._now())

    def _check_file_link(self, url: str) -> None:
        try:
            link = httpx.URL(url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise LinkRefused("The file link is not a URL.", status=0) from exc
        base = self._http.base_url
        host = link.host.lower()
        same_origin = (link.scheme, host, link.port) == (base.scheme, base.host.lower(), base.port)
        listed = link.scheme == "https" and link.port in (None, 443) and _host_listed(host, self.file_hosts)
        if link.userinfo or not (same_origin or listed):
            raise LinkRefused(
                f"The file link points to {host or 'no host'}, which is neither Debitura's API nor a "
                "configured file host (DEBITURA_FILE_HOSTS).",
                status=0,
            )

    # --- Webhooks -------------------------------------------------------------------------------

    def list_webhooks(self) -> tuple[Webhook, ...]:
        """The partner's webhook subscriptions (without secrets)."""
        return self._fetch_list(Webhook, "GET", "/webhooks")

    def create_webhook(
        self, *, url: str, events: Iterable[WebhookEventType | str], test_mode: bool = False
    ) -> Webhook:
        """Subscribe an https URL; the answer carries the signing `secret`, shown only this once."""
        names = [str(event) for event in events]
        validation.check_webhook(url=url, events=names)
        body = {"url": url, "events": names, "isTestMode": test_mode}
        return self._fetch(Webhook, "POST", "/webhooks", body=body)

    def get_webhook(self, webhook_id: str) -> Webhook:
        """One subscription."""
        return self._fetch(Webhook, "GET", "/webhooks/{id}", path={"id": webhook_id})

    def update_webhook(
        self,
        webhook_id: str,
        *,
        url: str | None = None,
        events: Iterable[WebhookEventType | str] | None = None,
        active: bool | None = None,
        test_mode: bool | None = None,
        regenerate_secret: bool = False,
    ) -> Webhook:
        """Change a subscription; fields left as None stay as they are."""
        names = None if events is None else [str(event) for event in events]
        validation.check_webhook(url=url, events=names)
        body = {
            "url": url,
            "events": names,
            "isActive": active,
            "isTestMode": test_mode,
            "regenerateSecret": regenerate_secret,
        }
        return self._fetch(Webhook, "PUT", "/webhooks/{id}", path={"id": webhook_id}, body=body)

    def delete_webhook(self, webhook_id: str) -> None:
        """Remove a subscription."""
        self._call("DELETE", "/webhooks/{id}", path={"id": webhook_id})

    def list_webhook_events(self, *, case_id: str, since: datetime | None = None) -> tuple[WebhookEvent, ...]:
        """Recorded deliveries for a case (newest first), for catching up on missed webhooks."""
        params = {"caseId": case_id}
        if since is not None:
            params["since"] = format_datetime(since)
        return self._fetch_list(WebhookEvent, "GET", "/webhooks/events", params=params)

    def replay_webhook_event(self, event_id: str) -> ReplayResult:
        """Ask Debitura to deliver a recorded event again."""
        return self._fetch(ReplayResult, "POST", "/webhooks/events/{id}/replay", path={"id": event_id})

    # --- Ingestion jobs -------------------------------------------------------------------------

    def create_ingestion_job(
        self, rows: Sequence[IngestionNote], *, idempotency_key: str | None = None
    ) -> IngestionJobCreated:
        """Queue notes for many cases in one call; poll `get_ingestion_job` until it is finished.

        Rows fail one by one (an unknown case, a closed one) and only show as counts; the same
        `idempotency_key` with the same rows replays the first answer instead of queueing twice.
        """
        validation.check_ingestion(list(rows), now=self._now(), idempotency_key=idempotency_key)
        body = {"rows": [{k: v for k, v in row.to_api().items() if v is not None} for row in rows]}
        return self._fetch(
            IngestionJobCreated, "POST", "/ingestion-jobs", body=body, idempotency_key=idempotency_key
        )

    def get_ingestion_job(self, job_id: str) -> IngestionJob:
        """A job's status and row counts."""
        return self._fetch(IngestionJob, "GET", "/ingestion-jobs/{jobId}", path={"jobId": job_id})

    # --- Managed cases (submitted by the partner for its clients) -------------------------------

    def create_managed_case(self, case: ManagedCaseInput, *, idempotency_key: str | None = None) -> Case:
        """Submit a case as managing partner; Debitura routes it to a partner for the debtor's country.

        A test case (`is_test`) is routed to the partner itself. The same `idempotency_key` with the
        same case replays the first answer, so a retry after a lost answer creates nothing twice.
        """
        validation.check_managed_case(case, idempotency_key=idempotency_key)
        return self._fetch(
            Case, "POST", "/managed-cases", body=case.to_api(), idempotency_key=idempotency_key
        )

    def list_managed_cases(
        self, filters: CaseFilters | None = None, *, page: int = 1, page_size: int = _MAX_PAGE_SIZE
    ) -> CasePage:
        """One page of the cases the partner submitted (test cases included: there is no filter)."""
        params = self._case_params(filters, page, page_size)
        params.pop("includeTestCases", None)
        return self._fetch(CasePage, "GET", "/managed-cases", params=params)

    def get_managed_case(self, case_id: str) -> Case:
        """One submitted case by its Debitura id."""
        return self._fetch(Case, "GET", "/managed-cases/{id}", path={"id": case_id})

    def get_managed_case_by_reference(self, reference: str) -> Case:
        """One submitted case by Debitura's 8-character reference."""
        validation.check_reference("caseReference", reference)
        return self._fetch(
            Case, "GET", "/managed-cases/case-reference/{caseReference}", path={"caseReference": reference}
        )

    def get_managed_timeline(self, case_id: str) -> Timeline:
        """A submitted case's timeline, as its collection partner works it."""
        return self._fetch(Timeline, "GET", "/managed-cases/{id}/timeline", path={"id": case_id})

    def list_managed_chats(self, case_id: str) -> tuple[Chat, ...]:
        """A submitted case's chat, oldest first."""
        return self._fetch_list(Chat, "GET", "/managed-cases/{id}/chats", path={"id": case_id})

    def list_managed_payments(self, case_id: str) -> tuple[Payment, ...]:
        """The payments the collection partner recorded on a submitted case."""
        return self._fetch_list(Payment, "GET", "/managed-cases/{id}/payments", path={"id": case_id})

    def create_managed_payment(
        self, case_id: str, *, date: date, amount: Decimal, close_case: bool = False
    ) -> ManagedPaymentCreated:
        """Record a payment on a submitted test case (production cases are refused: ValidationFailed).

        The whole amount goes to the creditor. No idempotency key exists for this operation.
        """
        validation.check_managed_payment(day=date, amount=amount, now=self._now())
        body = {"date": format_date(date), "paymentAmount": amount, "closeCase": close_case}
        return self._fetch(
            ManagedPaymentCreated, "POST", "/managed-cases/{id}/payments", path={"id": case_id}, body=body
        )

    def update_managed_payment(
        self, case_id: str, payment_id: str, payment: PaymentInput, *, reopen_case_if_needed: bool = False
    ) -> Payment:
        """Replace a payment on a submitted test case (as update_payment does on the partner's own)."""
        validation.check_payment(payment, now=self._now())
        body = {**_payment_body(payment), "reopenCaseIfNeeded": reopen_case_if_needed}
        return self._fetch(
            Payment,
            "PUT",
            "/managed-cases/{id}/payments/{paymentId}",
            path={"id": case_id, "paymentId": payment_id},
            body=body,
        )

    def delete_managed_payment(
        self, case_id: str, payment_id: str, *, reopen_case_if_needed: bool = False
    ) -> None:
        """Delete a payment on a submitted test case."""
        self._call(
            "DELETE",
            "/managed-cases/{id}/payments/{paymentId}",
            path={"id": case_id, "paymentId": payment_id},
            params={"reopenCaseIfNeeded": reopen_case_if_needed},
        )

    def list_managed_files(self, case_id: str) -> tuple[CaseFile, ...]:
        """A submitted case's documents; their signed URLs expire, so list again to refresh."""
        return self._fetch_list(CaseFile, "GET", "/managed-cases/{id}/files", path={"id": case_id})

    # --- Test cases -----------------------------------------------------------------------------

    def advance_test_case(
        self, case_id: str, *, to: AdvanceTarget, amount: Decimal | None = None
    ) -> AdvanceResult:
        """Drive a test case to Active, Closed:Paid (a payment of `amount`) or Closed:NoPayment,
        with the real webhooks; `advanced` is False when it was there already."""
        validation.check_advance(to=to, amount=amount)
        return self._fetch(
            AdvanceResult,
            "POST",
            "/test/cases/{id}/advance",
            path={"id": case_id},
            body={"to": to.value, "amount": amount},
        )

    def delete_test_case(self, case_id: str) -> None:
        """Hard-delete a test case and everything on it (a deleted one is no error)."""
        self._call("DELETE", "/test/cases/{id}", path={"id": case_id})

    def delete_test_cases(self, *, tag: str) -> None:
        """Hard-delete every test case created with `tag`; refused whole if a production case has it."""
        validation.check_tag(tag)
        self._call("DELETE", "/test/cases", params={"tag": tag})

    def replay_last_test_event(self, case_id: str) -> ReplayResult:
        """Deliver a test case's most recent webhook event again (NotFound when there is none)."""
        return self._fetch(ReplayResult, "POST", "/test/cases/{id}/replay-last-event", path={"id": case_id})

    def fire_test_webhook(
        self, *, case_id: str, event: WebhookEventType | str, subscription_id: str | None = None
    ) -> FireResult:
        """Send `event` about a test case's current state to the partner's test subscriptions (or one)."""
        body = {"event": str(event), "caseId": case_id, "subscriptionId": subscription_id}
        return self._fetch(FireResult, "POST", "/test/webhooks/fire", body=body)

    # --- Plumbing -------------------------------------------------------------------------------

    def _fetch(self, cls: type[M], method: str, template: str, **kwargs: Any) -> M:
        return self._call(method, template, decode=cls.from_json, **kwargs)

    def _fetch_list(self, cls: type[M], method: str, template: str, **kwargs: Any) -> tuple[M, ...]:
        return self._call(method, template, decode=cls.list_from_json, **kwargs)

    def _call(
        self,
        method: str,
        template: str,
        *,
        path: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        files: Mapping[str, Any] | None = None,
        data: Mapping[str, str] | None = None,
        retry: bool = True,
        decode: Callable[[bytes], Any] | None = None,
    ) -> Any:
        """Send one operation, retrying transient failures that certainly did not take effect, and
        `decode` the JSON of its answer (DecodeError and NotJson become ResponseInvalid)."""
        url = template.format(**{key: quote(str(value), safe="") for key, value in (path or {}).items()})
        headers: dict[str, str] = {}
        content: bytes | None = None
        if body is not None:
            # None means "leave out": Debitura's schemas refuse unknown and some null fields.
            content = dumps({key: value for key, value in body.items() if value is not None})
            headers["Content-Type"] = "application/json"
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        attempt = 1
        while True:
            try:
                status, answer = self._send(
                    method, url, template, attempt, params, content, headers, files, data
                )
                break
            except TransientError as exc:
                wait = self._retry_wait(exc, attempt) if retry else None
                if wait is None:
                    raise
                self._sleep(wait)
                attempt += 1
        try:
            return (decode or _no_result)(answer)
        except DecodeError as exc:
            raise ResponseInvalid(f"{template}: {exc}", status=status) from None
        except NotJson:
            what = "empty" if not answer.strip() else "not JSON"
            raise ResponseInvalid(f"{method} {template}: the answer is {what}.", status=status) from None

    def _retry_wait(self, exc: TransientError, attempt: int) -> float | None:
        """Seconds to wait before another attempt, or None to give up and let the caller decide."""
        if exc.ambiguous or attempt > self._retries:
            return None
        wait = exc.retry_after if exc.retry_after is not None else 0.5 * 2 ** (attempt - 1)
        # A long wait belongs to the caller's scheduler (e.g. a Celery countdown), not a blocked thread.
        return wait if wait <= self._max_retry_wait else None

    def _send(
        self,
        method: str,
        url: str,
        template: str,
        attempt: int,
        params: Mapping[str, Any] | None,
        content: bytes | None,
        headers: dict[str, str],
        files: Mapping[str, Any] | None,
        data: Mapping[str, str] | None,
    ) -> tuple[int, bytes]:
        """One attempt: the status and body of a 2xx answer; anything else raises its error."""
        self._throttle.acquire()
        started = time.monotonic()
        outcome = "error"
        try:
            try:
                response = self._http.request(
                    method, url, params=params, content=content, headers=headers, files=files, data=data
                )
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
                raise _transport_error(exc, method, template) from exc
            outcome = str(response.status_code)
            return self._read(response, method, template)
        finally:
            elapsed_ms = (time.monotonic() - started) * 1000
            level = logging.DEBUG if method in _READS and outcome.startswith("2") else logging.INFO
            log.log(
                level, "debitura %s %s %s %.0fms attempt=%d", method, template, outcome, elapsed_ms, attempt
            )

    def _read(self, response: httpx.Response, method: str, template: str) -> tuple[int, bytes]:
        status = response.status_code
        if 200 <= status < 300:
            # The raw text is what a case keeps and the sync stores, so NULs go before decoding.
            return status, without_nul(response.content)
        try:
            body: Any = loads(response.content) if response.content else None
        except ValueError:
            # Proxies answer with HTML; keep a little of it for the logs, never in the message.
            body = response.text[:2000]
        raise error_for_response(status, body, response.headers, method=method, now=self._now())


# A NUL character written as JSON's escape, not preceded by an escaped backslash ("\\u0000" is
# the six characters \u0000, which stay).
_NUL_ESCAPE = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")


def without_nul(body: bytes) -> bytes:
    """The JSON text with its NUL characters left out of every string.

    PostgreSQL's text columns cannot hold NUL, so one in a name or a message would stop a whole
    page of cases from being stored; no text Debitura sends means anything by it.
    """
    if b"\\u0000" not in body:
        return body
    return _NUL_ESCAPE.sub(rb"\1", body)


def _no_result(content: bytes) -> None:
    """The answer of an operation that returns nothing: only a body that is there must be JSON."""
    if content.strip():
        try:
            loads(content)
        except ValueError:
            raise NotJson from None


def _transport_error(exc: httpx.HTTPError, method: str, template: str) -> TransientError:
    """Our error for an httpx failure; ambiguous when the request may have reached Debitura."""
    never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    ambiguous = not never_sent and method not in _READS
    if isinstance(exc, httpx.TimeoutException):
        reason = "did not answer in time"
    elif never_sent:
        reason = "could not be reached"
    else:
        reason = "dropped the connection"
    return TransientError(f"Debitura {reason} ({method} {template}).", ambiguous=ambiguous)


def _payment_body(payment: PaymentInput) -> dict[str, Any]:
    return {
        "date": format_date(payment.date),
        "paymentAmount": payment.amount,
        "paymentRecipient": payment.recipient.value,
        "commissionPaymentStatus": payment.commission_status.value if payment.commission_status else None,
        "payoutCreditor": payment.payout_creditor,
        "payoutCollectionPartner": payment.payout_partner,
    }


def _host_listed(host: str, allowed: Iterable[str]) -> bool:
    """`host` is one of `allowed`, or under an entry that starts with a dot."""
    return bool(host) and any(
        host == entry or (entry.startswith(".") and host.endswith(entry)) for entry in allowed
    )


def _open_upload(file: IO[bytes] | str | os.PathLike[str], file_name: str | None) -> _Upload:
    if isinstance(file, str | os.PathLike):
        path = Path(file)
        return _Upload(path.open("rb"), file_name or path.name, path.stat().st_size, close_after=True)
    name = file_name or Path(str(getattr(file, "name", "") or "")).name
    return _Upload(file, name, _stream_size(file), close_after=False)


def _stream_size(stream: IO[bytes]) -> int | None:
    """Bytes left in a seekable stream, without reading it."""
    try:
        position = stream.tell()
        end = stream.seek(0, os.SEEK_END)
        stream.seek(position)
    except (AttributeError, OSError, ValueError):
        return None
    return end - position


# --- The per-process client ---------------------------------------------------------------------

_singleton: tuple[int, DebituraClient] | None = None
_singleton_lock = threading.Lock()


def client_from_settings(*, share: tuple[str, float | Sequence[float]] | None = None) -> DebituraClient:
    """A new client configured from Django settings (DEBITURA_* and CELERY_BROKER_URL).

    `share=("children", 0.25)` caps this client's requests at that fraction of the key's
    limits (they still count against the whole budget), for background queues; a sequence gives
    one fraction per window, shortest first.
    """
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    if not settings.DEBITURA_API_KEY:
        raise ImproperlyConfigured("DEBITURA_API_KEY (or DEBITURA_API_KEY_FILE) is not set.")
    throttle = throttle_for(
        settings.CELERY_BROKER_URL, settings.DEBITURA_API_KEY, directory=Path(settings.VAR_DIR)
    )
    return DebituraClient(
        settings.DEBITURA_BASE_URL,
        settings.DEBITURA_API_KEY,
        timeout=float(settings.DEBITURA_TIMEOUT_SECONDS),
        throttle=throttle.share(*share) if share else throttle,
        file_hosts=getattr(settings, "DEBITURA_FILE_HOSTS", ()),
    )


def get_client() -> DebituraClient:
    """This process's client, built from settings on first use and again in a forked child."""
    global _singleton
    pid = os.getpid()
    current = _singleton
    if current is not None and current[0] == pid:
        return current[1]
    with _singleton_lock:
        if _singleton is None or _singleton[0] != pid:
            # A child inherits the parent's pool; sharing its sockets would mix up responses.
            _singleton = (pid, client_from_settings())
        return _singleton[1]


def reset_client() -> None:
    """Forget (and close) this process's client, e.g. after settings changed in a test."""
    global _singleton
    with _singleton_lock:
        current, _singleton = _singleton, None
    if current is not None and current[0] == os.getpid():
        current[1].close()


def _after_fork_in_child() -> None:
    global _singleton_lock
    # The parent may have held the lock at fork time; the child starts with a fresh one.
    _singleton_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
