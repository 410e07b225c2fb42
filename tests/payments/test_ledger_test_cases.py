"""Payments on test cases: out of the ledger's rows and totals unless asked for, marked TEST when shown."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.fixtures.factories import CaseFactory, PaymentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def one_real_one_test(agent):
    real = PaymentFactory(case=CaseFactory(reference="REALCASE"), amount=Decimal("10.00"))
    test = PaymentFactory(case=CaseFactory(reference="TESTCASE", is_test_case=True), amount=Decimal("7.00"))
    return real, test


def test_the_ledger_leaves_test_cases_payments_out_of_rows_and_totals(agent_client, one_real_one_test):
    page = agent_client.get(reverse("payments:ledger")).content.decode()

    assert "REALCASE" in page
    assert "TESTCASE" not in page
    assert "17.00" not in page
    assert 'name="test"' in page  # the box that brings them in


def test_asked_for_the_test_cases_payments_count_and_are_marked_test(agent_client, one_real_one_test):
    page = agent_client.get(reverse("payments:ledger"), {"test": "on"}).content.decode()

    assert "TESTCASE" in page
    assert "17.00" in page
    assert page.count("badge badge-test") == 1


def test_the_csv_export_follows_the_same_choice(client, supervisor, one_real_one_test):
    client.force_login(supervisor)

    without = b"".join(client.get(reverse("payments:export")).streaming_content).decode()
    with_tests = b"".join(client.get(reverse("payments:export"), {"test": "on"}).streaming_content).decode()

    assert "REALCASE" in without
    assert "TESTCASE" not in without
    assert "TESTCASE" in with_tests
