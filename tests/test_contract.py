"""The contract checks' own plumbing: where the spec is found, and where its absence is reported."""

from __future__ import annotations

import pytest

from tests import contract


def test_the_spec_is_found_in_shared_above_a_git_worktree(tmp_path, monkeypatch):
    monkeypatch.delenv("DEBITURA_OPENAPI_SPEC", raising=False)
    spec = tmp_path / "shared" / "debitura" / "collection-partner-api.openapi.json"
    spec.parent.mkdir(parents=True)
    spec.write_text("{}")
    worktree_file = tmp_path / "wt" / "h6-e2e" / "tests" / "contract.py"
    checkout_file = tmp_path / "main" / "tests" / "contract.py"

    assert contract.spec_path(worktree_file) == spec
    assert contract.spec_path(checkout_file) == spec


def test_a_missing_spec_skips_the_test_that_makes_a_checked_client_not_a_request_later(tmp_path, monkeypatch):
    # A client made in a test but used by a live server thread must not turn the skip into a
    # 500 that the browser waits on: the hooks read the spec when they are made.
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(contract, "SPEC_PATH", tmp_path / "missing.json")
    contract.spec.cache_clear()
    try:
        with pytest.raises(pytest.skip.Exception, match="spec is not at"):
            contract.contract_hooks()
    finally:
        contract.spec.cache_clear()
