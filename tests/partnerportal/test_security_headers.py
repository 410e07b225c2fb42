"""Content-Security-Policy and Permissions-Policy on every page, and templates the policy can serve."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def directives(response) -> dict[str, str]:
    parts = (part.strip().partition(" ") for part in response["Content-Security-Policy"].split(";"))
    return {name: value for name, _, value in parts if name}


@pytest.mark.parametrize(
    ("url", "signed_in"),
    [("/accounts/login/", False), ("/", True), ("/cases/", True), ("/payments/", True), ("/admin/", True)],
)
@pytest.mark.django_db
def test_every_page_refuses_inline_script_and_style_framing_and_plugins(
    client, administrator, url, signed_in
):
    if signed_in:
        client.force_login(administrator)
    response = client.get(url)
    assert response.status_code == 200
    policy = directives(response)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in response["Content-Security-Policy"]
    permissions = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in permissions


@pytest.mark.django_db
def test_htmx_is_told_not_to_inject_its_style_nor_to_eval_nor_to_copy_style_attributes(agent_client):
    html = agent_client.get("/").content.decode()
    found = re.search(r"""<meta name="htmx-config" content='([^']*)'>""", html)
    assert found, "no htmx-config"
    config = json.loads(found.group(1))
    assert config["includeIndicatorStyles"] is False
    assert config["allowEval"] is False
    assert "style" not in config["attributesToSettle"]


# What the policy refuses, as it would appear in a template or a script that builds markup.
INLINE = {
    "inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "<style> element": re.compile(r"<style\b", re.IGNORECASE),
    "style attribute": re.compile(r"""\sstyle\s*=\s*["'{]""", re.IGNORECASE),
    "event-handler attribute": re.compile(r"""\son[a-z]+\s*=\s*["'{]""", re.IGNORECASE),
    "hx-on attribute": re.compile(r"\s(data-)?hx-on", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
    "js: in hx-vals": re.compile(r"""hx-vals\s*=\s*["']\s*js:""", re.IGNORECASE),
}


def portal_templates() -> list[Path]:
    return sorted(
        path
        for folder in ("templates", "accounts", "cases", "payments", "partnerportal", "debitura")
        for path in (ROOT / folder).rglob("*.html")
    )


def test_no_template_carries_what_the_policy_refuses():
    found = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in portal_templates()
        for name, pattern in INLINE.items()
        if pattern.search(path.read_text())
    ]
    assert portal_templates(), "no templates found"
    assert found == []


def test_no_script_writes_inline_handlers_or_style_attributes():
    scripts = sorted((ROOT / "static" / "js").rglob("*.js"))
    found = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in scripts
        for name in ("event-handler attribute", "style attribute", "javascript: URL")
        if INLINE[name].search(path.read_text())
    ] + [
        f"{path.relative_to(ROOT)}: setAttribute('style')"
        for path in scripts
        if re.search(r"""setAttribute\(\s*["'](style|on[a-z]+)["']""", path.read_text())
    ]
    assert found == []
