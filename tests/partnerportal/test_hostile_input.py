"""Hostile input is a page, a field error or a 4xx, never a 500 (issue 11, item 6): the 500s the
issue reported, and those like them in Django admin.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.utils import timezone

from cases.filters import SORTS
from cases.models import Case
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
