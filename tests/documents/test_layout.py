"""Documents depends on cases, never the other way: no module of cases imports documents (its
page includes documents' templates, its urls.py includes documents.urls by name)."""

from __future__ import annotations

import ast
from pathlib import Path

from django.urls import reverse

CASES = Path(__file__).resolve().parents[2] / "cases"


def test_cases_imports_nothing_of_documents():
    imported = set()
    for module in CASES.rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                imported |= {(module.name, alias.name) for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add((module.name, node.module))

    assert [(where, name) for where, name in imported if name.split(".")[0] == "documents"] == []


def test_the_file_urls_keep_their_names_and_paths():
    case, item = "5f0c7a44-0000-4000-8000-000000000001", "5f0c7a44-0000-4000-8000-000000000002"

    assert reverse("cases:file_upload", args=[case]) == f"/cases/{case}/files/"
    assert reverse("cases:file_open", args=[case, item]) == f"/cases/{case}/files/{item}"
    assert reverse("cases:upload_open", args=[case, item]) == f"/cases/{case}/uploads/{item}"
