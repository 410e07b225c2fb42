"""The page check the e2e suite runs on every page (tests/fixtures/pages.py) finds what it claims to."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fixtures.pages import page_problems

pytestmark = [pytest.mark.browser]

CSS = "body { margin: 0; font: 16px sans-serif } article { border: 1px solid; width: 300px }"


@pytest.fixture
def blank(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    yield context.new_page()
    context.close()


def problems(page: Any, body: str) -> list[str]:
    page.set_content(f"<!doctype html><html><head><style>{CSS}</style></head><body>{body}</body></html>")
    return page_problems(page)


def test_a_sound_page_has_no_problems(blank):
    body = """<article><h2>Debtor</h2><p>Daniel Moore</p><button>Send…</button></article>
      <article><p style="overflow: hidden; white-space: nowrap; text-overflow: ellipsis">
        <span>A name far too long for its column that the page cuts with an ellipsis on purpose</span></p>
      </article>"""
    assert problems(blank, body) == []


def test_none_in_text_or_in_a_field_is_found(blank):
    found = problems(blank, '<p>Welcome message: None</p><label>Fee <input value="None"></label>')
    assert any('"None" shown' in p for p in found)
    assert any('holds "None"' in p for p in found)


def test_a_page_wider_than_the_window_is_found_at_each_width(blank):
    found = problems(blank, '<div style="width: 1400px; height: 10px"></div>')
    assert [p for p in found if "scrolls sideways" in p] == [
        "at 1280px: the page scrolls sideways: 1400px in 1280px"
    ]


def test_a_button_spilling_out_of_its_card_is_found(blank):
    body = """<article style="height: 40px"><p>Close the case at Debitura?</p>
      <button>Confirm: close the case</button></article><article>The next card</article>"""
    found = problems(blank, body)
    assert any('<button> "Confirm: close the case" sticks out of <article>' in p for p in found)


def test_a_table_scrolling_inside_its_box_is_found(blank):
    table = '<table><tr><td><div style="width: 900px">x</div></td></tr></table>'
    body = f'<div style="overflow-x: auto; width: 500px">{table}</div>'
    assert any(re.search(r"scrolls sideways: 9\d\dpx in 500px", p) for p in problems(blank, body))
