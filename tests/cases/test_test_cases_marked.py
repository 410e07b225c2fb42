"""Debitura's test cases are marked TEST wherever the case list and the case page show them,
and the list leaves them out unless asked for."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.fixtures.factories import CaseFactory

pytestmark = pytest.mark.django_db


def test_the_list_hides_test_cases_until_asked_and_then_marks_them(client, supervisor):
    CaseFactory(reference="REALCASE")
    CaseFactory(reference="TESTCASE", is_test_case=True)
    client.force_login(supervisor)

    hidden = client.get(reverse("cases:list")).content.decode()
    shown = client.get(reverse("cases:list"), {"test": "on"}).content.decode()

    assert "REALCASE" in hidden
    assert "TESTCASE" not in hidden
    assert "TESTCASE" in shown
    assert shown.count('<span class="badge badge-test">TEST</span>') == 1


def test_the_case_page_of_a_test_case_says_test(client, supervisor):
    test_case = CaseFactory(is_test_case=True)
    real_case = CaseFactory()
    client.force_login(supervisor)

    test_page = client.get(reverse("cases:detail", args=[test_case.pk])).content.decode()
    real_page = client.get(reverse("cases:detail", args=[real_case.pk])).content.decode()

    assert 'class="badge badge-test"' in test_page
    assert ">TEST</span>" in test_page
    assert "badge-test" not in real_page
