"""The payment form's split override, as the agent reads its error."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Case
from outbox.models import OutboxAction

pytestmark = pytest.mark.django_db


def test_a_split_that_does_not_add_up_says_both_sums_as_money(client, team_agent, active_case):
    Case.objects.filter(pk=active_case.pk).update(currency="EUR")
    client.force_login(team_agent)
    response = client.post(
        reverse("payments:record", args=[active_case.id]),
        {
            "token": "tok-split",
            "date": timezone.localdate().isoformat(),
            "amount": "100",
            "recipient": "CollectionPartner",
            "payout_creditor": "60.5",
            "payout_partner": "30",
        },
        headers={"HX-Request": "true"},
    )
    assert "The two parts add up to 90.50 EUR, not the amount 100.00 EUR." in response.content.decode()
    assert not OutboxAction.objects.exists()
