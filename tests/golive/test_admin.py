"""The go-live check's admin page: administrators only; the button runs the check and shows it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from golive.models import GoLiveRun, Outcome
from tests.golive.conftest import tagged

RUN_URL = "admin:golive_goliverun_run"
LIST_URL = "admin:golive_goliverun_changelist"


@pytest.mark.parametrize("role", ["agent", "supervisor", "viewer"])
def test_only_administrators_may_see_or_run_the_check(client, request, role):
    user = request.getfixturevalue(role)
    user.is_staff = True  # even staff status without the administrator role is not enough
    user.save(update_fields=["is_staff"])
    client.force_login(user)

    listing = client.get(reverse(LIST_URL))
    run = client.post(reverse(RUN_URL))

    assert listing.status_code == 403
    assert run.status_code == 403
    assert not GoLiveRun.objects.exists()


def test_signed_out_the_run_button_leads_to_the_sign_in(client, db):
    response = client.post(reverse(RUN_URL))

    assert response.status_code == 302
    assert "/login/" in response["Location"]
    assert not GoLiveRun.objects.exists()


def test_an_administrator_runs_the_check_from_admin_and_sees_each_step(client, golive_env, golive_admin):
    client.force_login(golive_admin)
    index = client.get(reverse("admin:index"))
    assert reverse(LIST_URL) in index.content.decode()

    response = client.post(reverse(RUN_URL), follow=True)

    run = GoLiveRun.objects.get()
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("admin:golive_goliverun_change", args=[run.pk])
    assert run.outcome == Outcome.PASSED
    assert run.started_by == golive_admin
    assert "The go-live check passed" in page
    for step in run.steps.all():
        assert step.label in page
    steps_table = page.split('<table class="golive-steps">', 1)[1]
    passed = run.steps.filter(outcome="passed").count()
    assert steps_table.count('class="golive-outcome golive-outcome-passed"') == passed
    assert tagged(golive_env, run.tag) == []


def test_the_run_button_takes_only_post(client, administrator):
    client.force_login(administrator)

    assert client.get(reverse(RUN_URL)).status_code == 405


def test_the_list_shows_each_run_with_its_summary(client, administrator):
    run = GoLiveRun.objects.create(tag="golive-x", base_url="https://collectionpartner-api.debitura.com")
    run.steps.create(position=1, capability="api_key", label="API key", outcome=Outcome.PASSED)
    run.steps.create(position=2, capability="upload", label="Upload", outcome=Outcome.FAILED, detail="No.")
    client.force_login(administrator)

    page = client.get(reverse(LIST_URL)).content.decode()

    assert "1 passed, 1 failed" in page
    assert "Run the go-live check" in page
