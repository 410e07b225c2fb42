"""Property-based check of the read operations against the spec, over loopback.

Every GET operation in the spec is generated (the emulator implements all of them). Every
answer must be a status the spec lists, with a body that matches the schema for it, and never a
server error.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis.internal.conjecture import utils as conjecture_utils
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.schemas import BaseSchema

from debitura.emulator.server import EmulatorServer
from tests.contract import spec
from tests.fixtures.emulator import EMULATOR_API_KEY

# Schemathesis 3.39 warns about its own internal use of arguments it deprecated.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _restore_many_more() -> None:
    """hypothesis-jsonschema 0.23 drives hypothesis' private `many` through `more()`, which newer
    hypothesis releases replaced by a with/for protocol; rebuild `more()` on top of that protocol."""
    if hasattr(conjecture_utils.many, "more"):
        return

    def more(self: Any) -> bool:
        if not hasattr(self, "_compat_iterator"):
            self.__enter__()
            self._compat_iterator = iter(self)
        if next(self._compat_iterator, StopIteration) is StopIteration:
            self.__exit__(None)
            return False
        return True

    conjecture_utils.many.more = more  # type: ignore[attr-defined]


_restore_many_more()


@pytest.fixture
def read_schema(emulator_server: EmulatorServer) -> BaseSchema:
    loaded = schemathesis.from_dict(copy.deepcopy(spec()), base_url=emulator_server.url)
    return loaded.include(method="GET")


with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    schema = schemathesis.from_pytest_fixture("read_schema")


@pytest.mark.integration
@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_read_operations_conform_to_the_spec(case: schemathesis.Case) -> None:
    case.call_and_validate(
        headers={"XApiKey": EMULATOR_API_KEY, "Accept": "application/json"},
        timeout=10,
        checks=(
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ),
    )
