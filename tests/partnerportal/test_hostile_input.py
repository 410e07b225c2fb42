"""Hostile input is a page, a field error or a 4xx, never a 500 (issue 11, item 6).

First the 500s the issue reported and those like them in Django admin, one test each. Then a walk
over every URL the project routes (its own and Django admin's): each with its path ids real and
hostile, each query parameter it reads (from its forms and links, its form classes and the
code's `request.GET`) with a table of hostile values, page cursors for every sort key; then every
form those pages hold, posted with each field hostile in turn. A 500, an exception while a
streamed body is read or an error logged fails the walk, whose report names each such request.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import SavedView
from cases.filters import SORTS, CaseFilterForm
from cases.models import Case, CaseFile, ChatMessage, TimelineItem
from outbox.models import OutboxAction
from payments.filters import LedgerFilterSet
from payments.models import Payment

pytestmark = pytest.mark.django_db

SOME_UUID = "00000000-0000-0000-0000-000000000001"
HUGE = "9" * 30  # beyond 64 bits


def b64(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return base64.urlsafe_b64encode(text.encode("utf-8", "surrogatepass")).decode().rstrip("=")


# --- The 500s the issue reported ------------------------------------------------------------------


@pytest.fixture
def signed_in(client: Client, administrator: Any) -> Client:
    client.force_login(administrator)
    client.raise_request_exception = False
    return client


@pytest.fixture
def some_cases(agent: Any) -> list[Case]:
    now = timezone.now()
    rows = [
        Case(
            id=uuid.uuid4(),
            reference=f"R{index:04d}",
            lifecycle="Active",
            currency="EUR",
            gross_amount=Decimal(100 + index),
            remainder=Decimal(index),
            date_created=now - timedelta(days=index),
            remote_updated_at=now - timedelta(minutes=index),
            due_date=now + timedelta(days=index) if index % 3 else None,
            debtor_name=f"Debtor {index}",
            assigned_to=agent if index % 2 else None,
            search_text=f"r{index:04d} | debtor {index}",
        )
        for index in range(30)
    ]
    return Case.objects.bulk_create(rows)


@pytest.mark.parametrize(
    "url",
    [
        "/cases/?tab=all&sort=due&after=WyJ6enoiLCAiMSJd",
        "/cases/?tab=all&sort=reference&after=WyJ6enoiLCAiMSJd",
        "/cases/?created_to=9999-12-31",
        "/cases/?updated_to=9999-12-31",
        "/cases/?due_to=9999-12-31",
        "/cases/?assigned=9999999999999999999",
        "/payments/?offset=9223372036854775808",
        "/admin/r/1/1/",
    ],
)
def test_the_reported_500s_are_answered(signed_in: Client, some_cases: list[Case], url: str) -> None:
    assert signed_in.get(url).status_code in (200, 400, 404)


def references(html: str) -> list[str]:
    return re.findall(r'<a href="/cases/[0-9a-f-]{36}/">([^<]+)</a>', html)


@pytest.mark.parametrize("sort", list(SORTS))
def test_a_tampered_cursor_starts_the_list_over_for_every_sort_key(
    signed_in: Client, some_cases: list[Case], sort: str
) -> None:
    first = references(signed_in.get("/cases/", {"sort": sort}).content.decode())
    broken = [
        "WyJ6enoiLCAiMSJd",  # ["zzz", "1"]: an id that is no UUID
        b64(["a\x00b", SOME_UUID]),
        b64('["\\ud800", "' + SOME_UUID + '"]'),  # a lone surrogate: no database takes it
        b64([None, "not-a-uuid"]),
        "!!!",
        b64({"a": 1}),
    ]
    # Well formed, and a place in the order for a text column; for dates and amounts nothing.
    odd = [
        b64(["zzz", SOME_UUID]),
        b64(["9999-12-31T23:00:00-05:00", SOME_UUID]),
        b64(["1e999999", SOME_UUID]),
    ]
    typed = SORTS[sort] in ("date_created", "remote_updated_at", "due_date", "gross_amount", "remainder")
    for cursor in broken + odd:
        response = signed_in.get("/cases/", {"sort": sort, "after": cursor})
        assert response.status_code == 200, cursor
        if cursor in broken or typed:
            assert references(response.content.decode()) == first, cursor
    last = references(signed_in.get("/cases/", {"sort": f"-{sort}"}).content.decode())
    for name in ("after", "before"):
        response = signed_in.get("/cases/", {"sort": f"-{sort}", name: broken[0]})
        assert references(response.content.decode()) == last, name


def test_a_real_cursor_still_pages_for_every_sort_key(signed_in: Client, some_cases: list[Case]) -> None:
    for key in SORTS:
        html = signed_in.get("/cases/", {"sort": key, "size": "25"}).content.decode()
        after = re.search(r"after=([A-Za-z0-9_-]+)", html)
        assert after, key
        rest = references(
            signed_in.get("/cases/", {"sort": key, "size": "25", "after": after[1]}).content.decode()
        )
        assert len(rest) == 5, key


@pytest.mark.parametrize("name", ["created", "updated", "due"])
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1899-12-31", "3000-01-01"])
def test_a_date_filter_far_out_is_a_field_error(
    signed_in: Client, some_cases: list[Case], name: str, day: str
) -> None:
    for bound in ("from", "to"):
        response = signed_in.get("/cases/", {f"{name}_{bound}": day})
        assert response.status_code == 200
        html = response.content.decode()
        assert "Enter a date between 1900-01-01 and 2999-12-31." in html
        assert len(references(html)) == 25  # the filter is left out, the list is whole


def test_an_assignee_beyond_any_id_is_a_field_error(signed_in: Client, some_cases: list[Case]) -> None:
    response = signed_in.get("/cases/", {"assigned": "9999999999999999999"})
    assert response.status_code == 200
    assert 'id="assigned-error"' in response.content.decode()


def test_the_ledger_takes_far_dates_as_a_field_error_and_a_huge_offset_as_the_first_page(
    signed_in: Client, some_cases: list[Case]
) -> None:
    case = some_cases[0]
    Payment.objects.create(case=case, date=date(2026, 1, 2), amount=Decimal(5), currency="EUR")
    for params in ({"offset": "9223372036854775808"}, {"offset": "99999999999"}, {"offset": "-5"}):
        response = signed_in.get("/payments/", params)
        assert response.status_code == 200
        assert "5.00" in response.content.decode()
    response = signed_in.get("/payments/", {"date_to": "9999-12-31"})
    assert "Enter a date between 1900-01-01 and 2999-12-31." in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/admin/r/{capability}/1/",  # the permissions' holder has no table
        "/admin/r/99999999999999999999999/1/",
        "/admin/r/{case}/not-a-uuid/",
        "/admin/r/{payment}/99999999999999999999999/",
        "/admin/r/{payment}/1/",  # no such payment
    ],
)
def test_admins_view_on_site_is_a_404_for_ids_no_row_has(signed_in: Client, path: str) -> None:
    ids = {
        name: ContentType.objects.get(app_label=app, model=name).pk
        for app, name in (("accounts", "capability"), ("cases", "case"), ("payments", "payment"))
    }
    assert signed_in.get(path.format(**ids)).status_code == 404


@pytest.mark.parametrize("year", ["9999", "99999999999999999999999"])
def test_an_admin_date_hierarchy_year_no_date_has_is_a_bad_filter(signed_in: Client, year: str) -> None:
    for path, field_name in [
        ("/admin/cases/case/", "remote_updated_at"),
        ("/admin/payments/payment/", "date"),
        ("/admin/axes/accessattempt/", "attempt_time"),  # another app's admin
    ]:
        response = signed_in.get(path, {f"{field_name}__year": year, f"{field_name}__month": "12"})
        assert response.status_code == 302
        assert response["Location"].endswith("?e=1")


def test_an_admin_choice_beyond_64_bits_is_a_form_error(signed_in: Client) -> None:
    from django.contrib.auth.models import Group

    response = signed_in.post("/admin/auth/group/add/", {"name": "Clerks", "permissions": HUGE})

    assert response.status_code == 200
    assert f"Select a valid choice. {HUGE} is not one of the available choices." in response.content.decode()
    assert not Group.objects.filter(name="Clerks").exists()


@pytest.mark.parametrize("name", ["a\x00b", "two\nlines", "\u202eweiv"])
def test_a_saved_view_name_with_control_characters_is_refused(signed_in: Client, name: str) -> None:
    response = signed_in.post("/cases/views/", {"name": name, "query": "tab=all"})

    assert response.status_code == 400
    assert "Use letters, digits, spaces and punctuation only." in response.content.decode()
    assert not SavedView.objects.exists()  # PostgreSQL refused the NUL with a 500


# --- The walk -------------------------------------------------------------------------------------

CURSORS = [
    "WyJ6enoiLCAiMSJd",
    b64(["9999-12-31T23:00:00-05:00", SOME_UUID]),
    b64(["0001-01-01T00:00:00+14:00", SOME_UUID]),
    b64(["1e999999", SOME_UUID]),
    b64(["NaN", SOME_UUID]),
    b64('["\\udc80\\u0000", "' + SOME_UUID + '"]'),
    b64([[1], {"a": None}]),
    b64("[" * 5000),
]
# Each of these goes to all of one of our pages' query parameters at once.
VALUES = [
    "",
    " ",
    "0",
    "-1",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    HUGE,
    "1e999999",
    "-1e-999999",
    "NaN",
    "-Infinity",
    "1_000",
    "\uff11\uff12\uff13",  # full-width digits
    "0x1F",
    "12,5",
    "9999-12-31",
    "0001-01-01",
    "0000-00-00",
    "2023-02-29",
    "9999-12-31T23:59:59-14:00",
    "\x00",
    "a\x00b",
    "\u202e\ufeff\u200b",
    "😀" * 3,
    "x" * 10_000,
    "../../../../etc/passwd",
    "..\\..\\boot.ini",
    "/etc/passwd\x00.pdf",
    "<script>alert(1)</script>",
    "' OR '1'='1",
    "%s%n{0}{{x}}{% debug %}",
    '{"a": [1, {"b": null}]}',
    "[" * 1000,
    "null",
    "true",
    *CURSORS,
]
# These go to each parameter and each form field alone, and to all of Django admin's at once.
SHORT = ["-1", HUGE, "9999-12-31", "0001-01-01", "a\x00b", "x" * 10_000, CURSORS[0], "NaN"]
# Query strings with bytes that are not UTF-8 (overlong, a surrogate, a lone continuation byte).
RAW = ["%ff%fe", "%c0%af", "%ed%a0%80", "%80", "%00"]

# Query parameters read by code rather than by a form on the page (request.GET.get in the views).
CODE_PARAMS = {
    "cases:detail": {"resend"},
    "cases:live": {"v", "panel"},
    "cases:list_live": {"ids", "v"},
    "cases:accept_reference": {"partner_reference"},
    "payments:preview": {"amount", "payout_creditor", "payout_partner"},
    "payments:ledger": {"offset"},
    "login": {"next"},
    "admin:login": {"next"},
}
FORM_PARAMS = {
    "cases:list": set(CaseFilterForm.base_fields),
    "payments:ledger": set(LedgerFilterSet.base_filters),
    "payments:export": set(LedgerFilterSet.base_filters),
}
ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("accounts", "cases", "debitura", "outbox", "partnerportal", "payments")


def test_the_walk_knows_every_query_parameter_the_code_reads() -> None:
    """A view that starts reading a parameter (or binds a new form to request.GET) is walked too."""
    read: set[str] = set()
    forms: set[str] = set()
    for package in PACKAGES:
        for source in (ROOT / package).rglob("*.py"):
            text = source.read_text()
            for getter, item in re.findall(r'\.GET(?:\.get|\.getlist)\(\s*"(\w+)"|\.GET\["(\w+)"\]', text):
                read.add(getter or item)
            forms.update(re.findall(r"(\w+(?:Form|FilterSet))\(\s*request\.GET", text))
    assert read <= set().union(*CODE_PARAMS.values())
    assert forms == {"CaseFilterForm", "LedgerFilterSet"}  # both in FORM_PARAMS


@dataclass
class Form:
    """A form as the page has it: where it posts, and each field's first value."""

    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    files: set[str] = field(default_factory=set)


class PageParser(HTMLParser):
    """The forms, links and htmx URLs of a page."""

    def __init__(self, path: str) -> None:
        super().__init__(convert_charrefs=True)
        self.path = path
        self.forms: list[Form] = []
        self.urls: list[str] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for name in ("href", "hx-get", "hx-post", "action"):
            if a.get(name):
                self.urls.append(a[name])
        if tag == "form":
            self._form = Form(action=a.get("action") or self.path, method=a.get("method", "get").lower())
            self.forms.append(self._form)
        form = self._form
        if form is None or not a.get("name"):
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind == "file":
                form.files.add(name)
            elif kind in ("checkbox", "radio"):
                if "checked" in a or name not in form.fields:
                    form.fields[name] = a.get("value", "on")
            elif kind not in ("submit", "button", "reset", "image"):
                form.fields.setdefault(name, a.get("value", ""))
        elif tag == "select":
            self._select = name
            form.fields.setdefault(name, "")
        elif tag == "option" and self._select:
            if "selected" in a:
                form.fields[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = name
            form.fields.setdefault(name, "")
        elif tag == "button" and a.get("value"):
            form.fields.setdefault(name, a["value"])

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea:
            self._form.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


@dataclass
class Walker:
    """Sends the requests and keeps what went wrong; `caplog` catches what was logged."""

    client: Client
    caplog: Any
    requests: int = 0
    failures: list[str] = field(default_factory=list)

    def _check(self, what: str, send: Any) -> Any:
        self.requests += 1
        self.caplog.clear()
        try:
            response = send()
            if response.streaming:  # the test client closes it once read
                b"".join(response.streaming_content)
        except Exception as exc:  # a streamed body that fails to be read
            self.failures.append(f"{what}: raised {exc!r}")
            return None
        # django.security logs each SuspiciousOperation it answers with a 400: that is the answer.
        errors = [
            r
            for r in self.caplog.records
            if r.levelno >= logging.ERROR and not r.name.startswith("django.security.")
        ]
        if response.status_code >= 500 or errors:
            first = errors[0].getMessage()[:200] if errors else ""
            exc_text = errors[0].exc_info[1] if errors and errors[0].exc_info else ""
            self.failures.append(f"{what}: {response.status_code} {first} {exc_text!r}"[:500])
        return response

    def get(self, path: str, query: str = "", **headers: Any) -> Any:
        shown = f"GET {path}?{query[:200]}"
        return self._check(shown, lambda: self.client.get(path, QUERY_STRING=query, headers=headers))

    def post(self, path: str, data: dict[str, Any], **headers: Any) -> Any:
        fields = {k: str(v)[:60] for k, v in data.items()}
        shown = f"POST {path} {fields}"
        return self._check(shown, lambda: self.client.post(path, data, headers=headers))


def url_patterns(
    patterns: list[Any], prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str, Any]]:
    """(name, full route, pattern) of every route; unnamed ones are named by their route."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(n for n in (namespace, pattern.namespace or "") if n)
            yield from url_patterns(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            name = ":".join(n for n in (namespace, pattern.name or "") if n) if pattern.name else route
            yield name, route, pattern


def admin_model(name: str) -> Any:
    for model in admin.site._registry:
        if name.startswith(f"admin:{model._meta.app_label}_{model._meta.model_name}_"):
            return model
    return None


HOSTILE_IDS = ["0", "9223372036854775808", HUGE, "not-an-id", "../../etc/passwd", "a\x00b", SOME_UUID]
ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass
class World:
    """The rows the walk's URLs point at: a case in each state, its children, a payment, a view."""

    cases: list[Case]
    case_file: CaseFile
    upload: OutboxAction
    payments: list[Payment]
    saved_view: SavedView
    users: list[Any]

    def real(self, name: str, route: str) -> dict[str, list[str]]:
        """Real values for the route's parameters (one row each, or a few cases)."""
        active = str(self.cases[0].pk)
        values: dict[str, list[str]] = {
            "case_id": [str(c.pk) for c in self.cases],
            "file_id": [str(self.case_file.pk)],
            "action_id": [str(self.upload.pk)],
            "payment_id": [str(p.pk) for p in self.payments],
            "view_id": [str(self.saved_view.pk)],
            "id": [str(u.pk) for u in self.users],
            "content_type_id": [str(ContentType.objects.get_for_model(Case).pk)],
        }
        if "file_id" in route or "action_id" in route:
            values["case_id"] = [active]
        if "object_id" in route:
            model = admin_model(name) or self._model_of(route)
            first = model._default_manager.first() if model else None
            values["object_id"] = [str(first.pk)] if first else []
            if "content_type_id" in route:
                values["object_id"] = [active]
        return values

    @staticmethod
    def _model_of(route: str) -> Any:
        for model in admin.site._registry:
            if route.startswith(f"admin/{model._meta.app_label}/{model._meta.model_name}/"):
                return model
        return None


def filled(
    route: str, pattern: Any, real: dict[str, list[str]], *, hostile: list[str] | None = None
) -> list[str]:
    """The route with its parameters filled: real values (each one in turn), or with one
    parameter at a time taking each `hostile` value and the others real. Only values the
    converter takes; a parameter without a real value (no row) is only filled hostile."""
    names = [m["name"] for m in ROUTE_PARAM.finditer(route)]
    converters = getattr(pattern.pattern, "converters", {})
    options = {n: [v for v in real.get(n, []) if _fits(converters.get(n), v)] for n in names}
    base = {n: values[0] for n, values in options.items() if values}
    if hostile is not None:
        combos = [
            {**base, n: v}
            for n in names
            for v in hostile
            if _fits(converters.get(n), v) and all(m in base for m in names if m != n)
        ]
    elif len(base) < len(names):
        return []
    else:
        combos = [base] + [{**base, n: v} for n, values in options.items() for v in values[1:]]

    def path(combo: dict[str, str]) -> str:
        return "/" + ROUTE_PARAM.sub(lambda m: quote(combo[m["name"]], safe="/"), route)

    return list(dict.fromkeys(path(combo) for combo in combos))


def _fits(converter: Any, value: str) -> bool:
    return converter is None or bool(re.fullmatch(converter.regex, value))


def query(params: dict[str, str] | list[tuple[str, str]]) -> str:
    return urlencode(params, doseq=False)


def page_params(html: str, path: str) -> tuple[set[str], list[Form]]:
    """The query parameters the page's GET forms and links send back to `path`, and its forms."""
    parser = PageParser(path)
    parser.feed(html)
    names: set[str] = set()
    for url in parser.urls:
        parts = urlsplit(url)
        if parts.path in ("", path) and parts.query:
            names.update(k for k, _ in parse_qsl(parts.query, keep_blank_values=True))
    for form in parser.forms:
        if form.method == "get" and urlsplit(form.action).path in ("", path):
            names.update(form.fields)
    return names, parser.forms


PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
# A name as a creditor's system might send it: folders, a line break, a quote, an RTL override.
HOSTILE_FILE_NAME = '..\\../../etc/pass"wd\r\nX-Evil: 1\u202e.pdf'


@pytest.fixture
def world(
    settings: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    emulator: Any,
    sync_client: Any,
    cases_by_lifecycle: Any,
    team_agent: Any,
    administrator: Any,
) -> World:
    """Synced cases with some of every child, hostile where Debitura's data can be, and every
    module that would ask Debitura asking the in-process emulator."""
    import cases.sync
    import cases.sync.webhooks
    import debitura.client
    import documents.opening
    import payments.services
    from debitura.emulator.model import CaseFile as RemoteFile
    from documents.actions import case_file_upload

    settings.MEDIA_ROOT = tmp_path
    sync_modules = (cases.sync, cases.sync.runs, cases.sync.children, cases.sync.team, cases.sync.webhooks)
    for module in (documents.opening, *sync_modules, debitura.client, payments.services):
        monkeypatch.setattr(module, "get_client", lambda: sync_client)
    cache.clear()
    active = cases_by_lifecycle("Active")[0]
    picked = [active, cases_by_lifecycle("PendingVerification")[0], cases_by_lifecycle("Closed")[0]]
    now = timezone.now()
    for index in range(3):
        TimelineItem.objects.create(case=active, position=index, date=now, title=f"<b>Event</b> {index}")
        ChatMessage.objects.create(
            id=uuid.uuid4(), case=active, date_created=now, role=index % 2, message="=cmd|' /C calc'!A0"
        )
    with emulator.state.lock:
        remote = RemoteFile(str(uuid.uuid4()), str(active.pk), HOSTILE_FILE_NAME, None, None, PDF, now)
        emulator.state.cases[str(active.pk)].files.append(remote)
        emulator.state.files[remote.id] = remote
    case_file = CaseFile.objects.create(
        id=remote.id, case=active, file_name=HOSTILE_FILE_NAME, date_created=now
    )
    upload = case_file_upload(case=active, actor=team_agent, file=SimpleUploadedFile("letter.pdf", PDF))
    failed_note = OutboxAction.objects.create(
        kind="note",
        case=active,
        actor=team_agent,
        idempotency_key=uuid.uuid4().hex,
        state="failed",
        payload={"description": "a\\x00b <script>"},
        last_error="Refused.",
    )
    refused_edit = OutboxAction.objects.create(
        kind="payment_update",
        case=active,
        actor=team_agent,
        idempotency_key=uuid.uuid4().hex,
        state="failed",
        response={"reopen_required": True},
        payload={"date": "2026-01-02", "amount": "5", "recipient": "CollectionPartner"},
    )
    paid = [
        Payment.objects.create(
            case=active,
            remote_id=uuid.uuid4(),
            date=day,
            amount=Decimal("12.50"),
            currency=active.currency,
            recipient="Creditor",
            commission_status="Unpaid",
        )
        for day in (date(2026, 1, 2), date(1, 1, 1), date(9999, 12, 31))
    ]
    paid[0].action = refused_edit
    paid[0].save()
    refused_edit.payload["payment_id"] = paid[0].pk
    refused_edit.save()
    saved_view = SavedView.objects.create(user=administrator, name="<b>mine</b>", query="sort=due&after=!!!")
    sign_in = {"user_agent": "<script>", "ip_address": "10.0.0.1", "username": "a\rb", "path_info": "/"}
    AccessAttempt.objects.create(**sign_in, get_data="", post_data="", failures_since_start=3)
    AccessLog.objects.create(**sign_in)
    AccessFailureLog.objects.create(**sign_in)
    assert failed_note.pk
    return World(
        cases=picked,
        case_file=case_file,
        upload=upload,
        payments=paid,
        saved_view=saved_view,
        users=[administrator, team_agent],
    )


def test_every_url_answers_hostile_paths_and_query_strings_without_a_500(
    world: World, client: Client, administrator: Any, caplog: Any
) -> None:
    client.force_login(administrator)
    client.raise_request_exception = False
    walker = Walker(client, caplog)
    walked: dict[str, int] = {}
    for name, route, pattern in url_patterns(get_resolver().url_patterns):
        before = walker.requests
        real = world.real(name, route)
        paths = _paths(route, pattern, real)
        first = [walker.get(path) for path in paths][:1]
        for path in _hostile_paths(name, route, pattern, real):
            walker.get(path)
        if first and first[0] is not None:
            _walk_query(walker, name, paths[0], first[0], world)
        walked[name] = walker.requests - before
    print(f"\n{walker.requests} requests over {len(walked)} routes, {len(walker.failures)} failed")
    assert not walker.failures, "\n".join(walker.failures)
    assert not [name for name, count in walked.items() if not count]


def _paths(route: str, pattern: Any, real: dict[str, list[str]]) -> list[str]:
    regex = pattern.pattern.regex.pattern
    if "app_label" in regex:
        return [f"/admin/{label}/" for label in sorted({m._meta.app_label for m in admin.site._registry})]
    if "(?P<url>" in regex:
        return ["/admin/no/such/page/"]
    return filled(route, pattern, real)


def _hostile_paths(name: str, route: str, pattern: Any, real: dict[str, list[str]]) -> list[str]:
    regex = pattern.pattern.regex.pattern
    if "app_label" in regex or "(?P<url>" in regex:
        return [f"/admin/{quote(v, safe='/')}/" for v in HOSTILE_IDS]
    if name.startswith("admin:") and not name.endswith("_change"):
        # Django admin looks an object up the same way for each of its pages: one value here.
        return filled(route, pattern, real, hostile=[HUGE])
    return filled(route, pattern, real, hostile=[*HOSTILE_IDS, str(uuid.uuid4())])


# What Django admin's add and change pages read besides their forms.
ADMIN_PARAMS = {"_to_field", "_popup", "_changelist_filters"}


def _walk_query(walker: Walker, name: str, path: str, response: Any, world: World) -> None:
    """Our pages: every value for all the parameters at once, each parameter alone with the SHORT
    values, bytes that are no UTF-8, repeats, and cursors for each sort key. Django admin's: the
    SHORT values for all of a change list's parameters (and an add or change page's) at once."""
    if response.status_code == 405:
        return  # a POST-only view: its forms are walked by the POST walk
    html = response.content.decode(errors="replace") if not response.streaming else ""
    found, _ = page_params(html, path)
    names = sorted(found | CODE_PARAMS.get(name, set()) | FORM_PARAMS.get(name, set()))
    if name.startswith("admin:"):
        if name.endswith(("_add", "_change")):
            names = sorted(ADMIN_PARAMS)
        elif not name.endswith("_changelist"):
            return
        for value in SHORT:
            walker.get(path, query(dict.fromkeys(names, value)))
        walker.get(path, "&".join(f"{n}={RAW[0]}" for n in names))
        return
    for value in VALUES if names else SHORT[:3]:
        walker.get(path, query(dict.fromkeys(names or ["q"], value)))
    for raw in RAW:
        walker.get(path, "&".join(f"{n}={raw}" for n in names or ["q"]))
    if not names:
        return
    walker.get(path, "&".join(f"{n}=1&{n}=2" for n in names))
    walker.get(path, query(dict.fromkeys(names, SHORT[1])), HX_Request="true")
    for n in names:
        for value in SHORT:
            walker.get(path, query({n: value}))
    if name == "cases:list_live":  # the rows on screen are real, their stamp hostile
        ids = ",".join(case.pk.hex for case in world.cases)
        for value in SHORT:
            walker.get(path, query({"ids": ids, "v": value}))
    if name == "cases:list":
        for key in SORTS:
            for sort in (key, f"-{key}"):
                for cursor in CURSORS[:4]:
                    walker.get(path, query({"sort": sort, "after": cursor, "before": cursor}))


# Values every field of every form gets at once (and SHORT for each field alone).
POSTED = [
    *SHORT,
    "",
    "0",
    "1e999999",
    "\uff11\uff12\uff13",  # full-width digits
    "1_000",
    "9999-12-31T23:59:59-14:00",
    "2023-02-29",
    "<script>alert(1)</script>",
    "{% debug %}{{ settings.SECRET_KEY }}",
    "{seq:>5000000}",
    "' OR '1'='1",
    CURSORS[5],
]
# Uploads: names with folders, programs, archives that hide one.
HOSTILE_UPLOADS = [
    ("../../../etc/passwd.pdf", PDF),
    ("C:\\Windows\\evil.pdf", PDF),
    ("a\x00b.pdf", PDF),
    ("x" * 5000 + ".pdf", PDF),
    ("run.exe.", b"MZ\x90\x00" + b"\x00" * 60),
    ("invoice.pdf", b"MZ\x90\x00" + b"\x00" * 60),
    ("bundle.zip", b"PK\x03\x04 truncated"),
    ("", PDF),
]


def harvest(walker: Walker, paths: list[str]) -> list[Form]:
    """The POST forms on these pages, each once (by where it posts and its fields)."""
    forms: dict[tuple[str, tuple[str, ...]], Form] = {}
    for path in paths:
        response = walker.get(path)
        if response is None or response.status_code != 200:
            continue
        _, found = page_params(response.content.decode(), path)
        for form in found:
            action = urlsplit(form.action).path or path
            if form.method != "post" or action.endswith(("/logout/", "/delete/")):
                continue
            form.action = action
            forms.setdefault((action, tuple(sorted(form.fields))), form)
    return list(forms.values())


# Django admin's own forms for our models; Django's and axes' get fewer values.
OUR_ADMIN = ("/admin/partnerportal/", "/admin/cases/", "/admin/accounts/", "/admin/payments/")


def post_walk(walker: Walker, forms: list[Form], *, each_field: bool) -> None:
    """Each form as the page fills it, unconfirmed and confirmed; every field with each POSTED
    value at once; with `each_field`, each field alone with the SHORT values (htmx, the form
    alone back); each file field with each hostile upload."""
    for form in forms:
        names = [n for n in form.fields if n != "csrfmiddlewaretoken"]
        walker.post(form.action, form.fields)
        walker.post(form.action, {**form.fields, "confirmed": "1"})
        ours = not form.action.startswith("/admin/") or form.action.startswith(OUR_ADMIN)
        for value in POSTED if ours else SHORT[:3]:
            walker.post(form.action, {**dict.fromkeys(names, value), "confirmed": "1"})
        if each_field:
            for name in names:
                for value in SHORT:
                    walker.post(
                        form.action, {**form.fields, name: value, "confirmed": "1"}, HX_Request="true"
                    )
        for name in form.files:
            for file_name, content in HOSTILE_UPLOADS:
                upload = SimpleUploadedFile(file_name, content) if file_name else io.BytesIO(content)
                walker.post(form.action, {**form.fields, name: upload})


def test_every_form_answers_hostile_values_without_a_500(
    world: World, client: Client, team_agent: Any, administrator: Any, caplog: Any
) -> None:
    client.raise_request_exception = False
    walker = Walker(client, caplog)
    client.force_login(team_agent)
    pages = [reverse("cases:detail", args=[case.pk]) for case in world.cases]
    pages += [reverse("payments:detail", args=[p.pk]) for p in world.payments]
    pages += [reverse("cases:lookup"), reverse("cases:saved_views")]
    ours = harvest(walker, pages)
    post_walk(walker, ours, each_field=True)
    client.force_login(administrator)
    admin_pages = [reverse("cases:list")] + [
        path
        for name, route, pattern in url_patterns(get_resolver().url_patterns)
        if name.endswith(("_add", "_change", "_changelist", "sync_now", "password_change"))
        for path in filled(route, pattern, world.real(name, route))
    ]
    theirs = harvest(walker, admin_pages)
    post_walk(walker, theirs, each_field=False)
    client.logout()
    walker.post(reverse("login"), {"username": "x" * 10_000, "password": "a\x00b"})
    walker.post(reverse("debitura_webhook"), {"a": "[" * 100_000})
    print(f"\n{walker.requests} requests, {len(ours)} + {len(theirs)} forms, {len(walker.failures)} failed")
    assert {urlsplit(f.action).path.rsplit("/", 1)[-1] for f in ours} >= {
        "accept",
        "decline",
        "note",
        "chat",
        "fees",
        "close",
        "record",
        "correct",
        "delete",
        "consent",
        "",
    }
    assert not walker.failures, "\n".join(walker.failures)


@pytest.mark.parametrize(
    "url",
    [
        "/submitted/?q=a%00b",  # a search read without a form
        "/admin/promises/promise/?status__exact=a%00b&_facets=1",  # an admin list filter and its facets
        "/admin/exports/exportjob/?kind__exact=%00",
        "/cases/%00/",
    ],
)
def test_a_nul_in_the_address_is_a_400_before_any_query(signed_in: Client, url: str) -> None:
    assert signed_in.get(url).status_code == 400
