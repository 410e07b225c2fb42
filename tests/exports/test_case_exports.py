"""Cases as CSV and XLSX: the list's cases in the list's order, chosen columns, safe cells, roles."""

from __future__ import annotations

import csv
import io
import random
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.roles import AGENT
from cases.models import Case
from exports.cases import cases_csv_lines, cases_export_queryset
from exports.columns import columns_chosen
from exports.models import ExportJob, ExportSettings
from tests.fixtures.case_list import LIST, references_in
from tests.fixtures.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db
FILE = reverse("exports:cases_file")
DIALOG = reverse("exports:cases")


def varied_cases(count: int, *, seed: int = 7) -> list[Case]:
    """Cases spread over lifecycles, currencies, amounts (with ties), due dates (some none) and assignees."""
    rng = random.Random(seed)
    users = [UserFactory(username=f"user{n}", role=AGENT) for n in range(3)]
    now = timezone.now()
    rows = []
    for index in range(count):
        amount = Decimal(rng.choice([100, 250, 999, 1500])) + Decimal(rng.randint(0, 3)) / 4
        rows.append(
            CaseFactory.build(
                lifecycle=rng.choice(["Active", "Active", "PendingVerification", "Closed", "Paused"]),
                currency=rng.choice(["EUR", "DKK", "JPY"]),
                gross_amount=amount,
                remainder=amount - Decimal(rng.randint(0, 50)),
                debtor_name=f"{rng.choice(['Hansen', 'Jensen', 'Müller'])} {index}",
                creditor_name=f"Creditor {index % 7}",
                debtor_country_code=rng.choice(["DK", "DE"]),
                due_date=now + timedelta(days=rng.randint(-90, 90)) if rng.random() < 0.8 else None,
                date_created=now - timedelta(hours=rng.randint(0, 5000)),
                remote_updated_at=now - timedelta(minutes=rng.randint(0, 500)),  # ties on purpose
                assigned_to=rng.choice(users) if rng.random() < 0.6 else None,
                partner_reference=f"AG-{index:04d}" if rng.random() < 0.7 else "",
            )
        )
    return Case.objects.bulk_create(rows)


def list_references(client: Any, query: str) -> list[str]:
    """Every reference the list shows for `query`, page after page through its own next links."""
    found: list[str] = []
    url = f"{LIST}?{query}&size=100"
    while url:
        html = client.get(url).content.decode()
        found += references_in(html)
        after = html.split('rel="next"')[0].rsplit('href="/cases/?', 1) if 'rel="next"' in html else None
        url = f"{LIST}?{after[1].split(chr(34))[0].replace('&amp;', '&')}" if after else ""
    return found


def csv_rows(response: Any) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def export_csv(client: Any, query: str, columns: tuple[str, ...] = ("reference",)) -> list[list[str]]:
    response = client.post(FILE, {"query": query, "file_format": "csv", "columns": list(columns)})
    assert response.status_code == 200
    return csv_rows(response)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "tab=active&sort=-remainder",
        "sort=amount",
        "sort=due",
        "sort=-due&currency=dkk",
        "sort=assigned",
        "sort=-assigned&tab=active",
        "sort=debtor&q=hansen",
        "tab=closed&amount_min=200&sort=-created",
        "country=DE&sort=creditor&lifecycle=Active",
        "sort=-updated&amount_max=not-a-number",  # an invalid field is ignored, as the list ignores it
    ],
)
def test_the_export_holds_the_lists_cases_in_the_lists_order(client, supervisor, query):
    varied_cases(230)
    client.force_login(supervisor)

    shown = list_references(client, query)
    exported = [row[0] for row in export_csv(client, query)[1:]]

    assert shown, "the filter matches cases"
    assert exported == shown


def test_the_export_ignores_the_lists_page_cursor_and_size(client, supervisor):
    varied_cases(60)
    client.force_login(supervisor)
    html = client.get(f"{LIST}?size=25").content.decode()
    cursor = html.split('rel="next"')[0].rsplit('href="/cases/?', 1)[1].split('"')[0].replace("&amp;", "&")

    assert len(export_csv(client, cursor)) == 1 + 60


def test_the_csv_has_the_agencys_columns_with_paid_and_remainder_as_the_case_page_says(client, supervisor):
    assignee = UserFactory(username="sofie", first_name="Sofie", last_name="Holm", role=AGENT)
    case = CaseFactory(
        reference="Q8OAXF3W", creditor_reference="INV-77", partner_reference="AG-1",
        debtor_name="Jens Hansen",
        debtor_country_code="DK", creditor_name="Acme ApS", currency="JPY", gross_amount=Decimal("15000"),
        interest_fees=Decimal("500"), reminder_fees=Decimal("0"), collection_fees=Decimal("1000"),
        remainder=Decimal("6500"), lifecycle="Closed", close_code="PartiallyPaid", assigned_to=assignee,
        exclusive_period_end=timezone.now() + timedelta(days=30),
    )  # fmt: skip
    client.force_login(supervisor)

    header, row = export_csv(client, "", tuple(c.key for c in columns_chosen(None)))

    values = dict(zip(header, row, strict=True))
    assert values["Debitura reference"] == "Q8OAXF3W"
    assert values["Creditor reference"] == "INV-77"
    assert values["Agency reference"] == "AG-1"
    assert (values["Debtor"], values["Debtor country"], values["Creditor"]) == (
        "Jens Hansen",
        "DK",
        "Acme ApS",
    )
    assert (values["Claim amount"], values["Paid"], values["Remainder"]) == ("15000", "10000", "6500")
    assert values["Currency"] == "JPY"
    assert (values["Lifecycle"], values["Close code"]) == ("Closed", "Partially Paid")
    assert values["Assigned to"] == "Sofie Holm"
    assert values["Created"] == timezone.localdate(case.date_created).isoformat()
    assert values["Exclusive until"] == timezone.localdate(case.exclusive_period_end).isoformat()
    assert header.index("Currency") == header.index("Remainder") + 1


def test_the_chosen_columns_are_remembered_and_an_amount_brings_its_currency(client, supervisor):
    CaseFactory(reference="R1", debtor_name="Ann")
    client.force_login(supervisor)

    rows = export_csv(client, "", ("debtor", "reference", "remainder"))

    assert rows[0] == ["Debitura reference", "Debtor", "Remainder", "Currency"]
    assert ExportSettings.objects.get(user=supervisor).case_columns == [
        "reference",
        "debtor",
        "remainder",
        "currency",
    ]
    dialog = client.get(DIALOG).content.decode()
    checked = [
        column.key
        for column in columns_chosen(None) + columns_chosen(["test"])
        if _checked(dialog, column.key)
    ]
    assert checked == ["reference", "debtor", "remainder", "currency"]
    again = csv_rows(client.get(FILE, {"format": "csv"}))
    assert again[0] == ["Debitura reference", "Debtor", "Remainder", "Currency"]


def _checked(html: str, key: str) -> bool:
    tag = html.split(f'value="{key}"', 1)[1].split(">", 1)[0]
    return "checked" in tag


DANGEROUS = [
    '=HYPERLINK("http://x.example","y")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    " =1",
    "\t=1",
    "\uff1d1",
]  # the last: a full-width equals sign


def test_formula_cells_are_neutralised_in_the_csv(client, supervisor):
    for index, name in enumerate(DANGEROUS):
        CaseFactory(
            reference=f"F{index}",
            debtor_name=name,
            remote_updated_at=timezone.now() - timedelta(minutes=index),
        )
    client.force_login(supervisor)

    rows = export_csv(client, "sort=reference", ("reference", "debtor"))

    assert [row[1] for row in rows[1:]] == [f"'{name}" for name in DANGEROUS]


def test_formula_cells_are_neutralised_in_the_xlsx_and_amounts_are_numbers_beside_their_currency(
    client, supervisor
):
    for index, name in enumerate(DANGEROUS):
        CaseFactory(
            reference=f"F{index}", debtor_name=name, gross_amount=Decimal("1234.5"), remainder=Decimal("34.5")
        )
    CaseFactory(
        reference="JP",
        debtor_name="Tanaka",
        currency="JPY",
        gross_amount=Decimal("15000"),
        remainder=Decimal("15000"),
    )
    client.force_login(supervisor)

    response = client.post(
        FILE, {"query": "sort=reference", "file_format": "xlsx", "columns": ["reference", "debtor", "amount"]}
    )

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="cases-')
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=False)["Cases"]
    header = [cell.value for cell in sheet[1]]
    assert header == ["Debitura reference", "Debtor", "Claim amount", "Currency"]
    rows = list(sheet.iter_rows(min_row=2))
    debtors = {row[0].value: row[1] for row in rows}
    for index, name in enumerate(DANGEROUS):
        cell = debtors[f"F{index}"]
        assert cell.data_type == "s"
        assert cell.value == f"'{name}"
    amounts = {row[0].value: (row[2], row[3].value) for row in rows}
    cell, currency = amounts["F0"]
    assert (cell.data_type, cell.value, cell.number_format, currency) == ("n", 1234.5, "#,##0.00", "EUR")
    cell, currency = amounts["JP"]
    assert (cell.value, cell.number_format, currency) == (15000, "#,##0", "JPY")


def test_agents_and_viewers_get_403_and_no_export_button(client, agent, viewer, supervisor):
    CaseFactory()
    for user in (agent, viewer):
        client.force_login(user)
        assert client.get(DIALOG).status_code == 403
        assert client.get(FILE).status_code == 403
        assert client.post(FILE, {"file_format": "csv", "columns": ["reference"]}).status_code == 403
        assert client.post(reverse("exports:documents_start"), {"query": ""}).status_code == 403
        assert 'id="export-link"' not in client.get(LIST).content.decode()
    client.force_login(supervisor)
    page = client.get(f"{LIST}?tab=active&currency=EUR").content.decode()
    assert 'id="export-link"' in page
    assert f'href="{DIALOG}?tab=active&amp;currency=EUR"' in page


def test_the_export_button_follows_the_filters_changed_in_place(client, supervisor):
    CaseFactory()
    client.force_login(supervisor)

    partial = client.get(f"{LIST}?tab=closed&sort=due", headers={"HX-Request": "true"}).content.decode()

    assert 'id="export-link" role="button" class="outline secondary compact" hx-swap-oob="true"' in partial
    assert f"{DIALOG}?tab=closed&amp;sort=due" in partial


def test_the_dialog_says_how_many_cases_and_which_filters(client, supervisor):
    varied_cases(40)
    client.force_login(supervisor)
    expected = cases_export_queryset(query="tab=active&currency=EUR", user=supervisor).count()

    html = client.get(f"{DIALOG}?tab=active&currency=EUR&after=abc").content.decode()

    assert f"<strong>{expected}</strong> case" in html
    assert "<dt>Currency</dt> <dd>EUR</dd>" in html
    assert 'name="query" value="tab=active&amp;currency=EUR"' in html


def test_an_export_reads_its_rows_in_one_query_however_many_cases(client, supervisor):
    client.force_login(supervisor)

    def queries_for(count: int) -> int:
        Case.objects.all().delete()
        Case.objects.bulk_create([CaseFactory.build() for _ in range(count)])
        with CaptureQueriesContext(connection) as captured:
            rows = export_csv(client, "tab=active", ("reference", "assigned", "paid"))
        assert len(rows) == count + 1
        return len(captured)

    few, many = queries_for(30), queries_for(900)

    assert few == many
    assert many <= 8  # the session, the user, the settings row and its save, the rows


def test_the_service_reads_chunks_lazily(supervisor):
    Case.objects.bulk_create([CaseFactory.build() for _ in range(50)])
    cases = cases_export_queryset(query="", user=supervisor)
    lines = cases_csv_lines(cases=cases, columns=columns_chosen(["reference"]), chunk_size=10)

    with CaptureQueriesContext(connection) as captured:
        header = next(lines)
    assert header.startswith("\ufeffDebitura reference")
    assert len(captured) == 0  # nothing is read before the first row is asked for
    assert sum(line.count("\n") for line in lines) == 50


def test_test_cases_are_exported_only_when_the_list_includes_them(client, supervisor):
    CaseFactory(reference="REAL")
    CaseFactory(reference="TEST", is_test_case=True)
    client.force_login(supervisor)

    assert [row[0] for row in export_csv(client, "")[1:]] == ["REAL"]
    assert sorted(row[0] for row in export_csv(client, "test=on")[1:]) == ["REAL", "TEST"]


def test_an_unknown_case_id_for_a_documents_archive_is_404(client, supervisor):
    client.force_login(supervisor)
    for value in ("nope", str(uuid.uuid4())):
        assert client.post(reverse("exports:documents_start"), {"case": value}).status_code == 404


def test_a_workbook_of_more_cases_than_a_request_takes_is_written_in_the_background(
    client, supervisor, settings, tmp_path, eager_tasks, django_capture_on_commit_callbacks
):
    settings.EXPORT_ARCHIVE_DIR = tmp_path / "exports"
    settings.EXPORT_XLSX_DIRECT_MAX = 5
    Case.objects.bulk_create([CaseFactory.build(debtor_name=f"=cmd {n}") for n in range(12)])
    client.force_login(supervisor)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            FILE, {"query": "tab=active", "file_format": "xlsx", "columns": ["reference", "debtor"]}
        )

    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert response["Location"] == reverse("exports:job", args=[job.pk])
    assert (job.kind, job.state, job.cases_total, job.cases_done) == ("workbook", "ready", 12, 12)
    page = client.get(response["Location"]).content.decode()
    assert "Download the workbook" in page
    download = client.get(reverse("exports:job_download", args=[job.pk]))
    assert (
        download["Content-Disposition"]
        == f'attachment; filename="cases-{timezone.localdate():%Y-%m-%d}.xlsx"'
    )
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content)))["Cases"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 12
    assert all(debtor.startswith("'=cmd ") for _, debtor in rows)


def test_a_workbook_up_to_the_limit_is_downloaded_at_once(client, supervisor, settings):
    settings.EXPORT_XLSX_DIRECT_MAX = 5
    Case.objects.bulk_create([CaseFactory.build() for _ in range(5)])
    client.force_login(supervisor)

    response = client.post(FILE, {"query": "", "file_format": "xlsx", "columns": ["reference"]})

    assert response.status_code == 200
    assert not ExportJob.objects.exists()
