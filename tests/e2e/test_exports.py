"""Exports on the real stack: the filtered list as CSV from the browser, and one case's documents
as a ZIP built by the real worker from the emulator over HTTP."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.flows import choose, results, row_references, shown_in_list

pytestmark = [pytest.mark.e2e]
WAIT_MS = 120_000


def test_a_supervisor_exports_the_filtered_list_as_csv_holding_what_debitura_has(
    browser_as, emulator_api, check
):
    cases = [c for c in emulator_api.cases() if shown_in_list(c)]
    currency, _n = Counter(c["currency"] for c in cases if c["lifecycle"] == "Active").most_common(1)[0]
    expected = {c["reference"] for c in cases if c["lifecycle"] == "Active" and c["currency"] == currency}
    page = browser_as("supervisor")
    page.goto("/cases/")
    page.get_by_text("Filters", exact=True).click()
    choose(page, "Lifecycle", "Active")
    choose(page, "Currency", currency)
    expect(page).to_have_url(re.compile(rf"currency={currency}"))
    expect(results(page).first).to_be_visible()
    first_page = row_references(page)
    check(page)

    page.get_by_role("button", name="Export…").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Export cases")
    expect(page.locator("main")).to_contain_text(f"{len(expected)} case")
    expect(page.locator(".export-filters")).to_contain_text(currency)
    check(page)
    page.get_by_label("CSV (comma-separated, UTF-8)").check()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download").click()
    download = download_info.value
    assert re.fullmatch(r"cases-\d{4}-\d{2}-\d{2}-\d{4}\.csv", download.suggested_filename)
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
    exported = [row["Debitura reference"] for row in rows]
    assert set(exported) == expected
    assert len(exported) == len(expected)
    assert exported[: len(first_page)] == first_page  # the list's order
    assert {row["Currency"] for row in rows} == {currency}
    check.verify()


def test_a_supervisor_downloads_one_cases_documents_as_a_zip(browser_as, emulator_api, check):
    candidates = [c for c in emulator_api.cases() if shown_in_list(c) and c["lifecycle"] == "Active"]
    case, files = next((c, f) for c in candidates if len(f := emulator_api.files(c["id"])) >= 1)
    page = browser_as("supervisor")
    page.goto(f"/cases/{case['id']}/")
    button = page.get_by_role("button", name="Download all as ZIP")
    for _ in range(12):  # the worker fetches the case's files (children) after opening it
        if button.count():
            break
        page.wait_for_timeout(5_000)
        page.reload()
    check(page)

    button.click()

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Documents of case {case['reference']}")
    link = page.get_by_role("button", name=re.compile(r"^Download the ZIP"))
    expect(link).to_be_visible(timeout=WAIT_MS)  # the job page polls until the worker is done
    check(page)
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename.startswith(f"documents-{case['reference']}-")
    with zipfile.ZipFile(download.path()) as zf:
        names = [name for name in zf.namelist() if name != "manifest.csv"]
        manifest = list(csv.DictReader(io.StringIO(zf.read("manifest.csv").decode("utf-8-sig"))))
    assert len(names) == len(files)
    assert all(name.startswith(f"{case['reference']}/") for name in names)
    assert sorted(row["Name at Debitura"] for row in manifest) == sorted(f["fileName"] for f in files)
    assert {row["Result"] for row in manifest} == {"included"}
    check.verify()
