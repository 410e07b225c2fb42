import pytest
from django.urls import reverse

from partnerportal.celery import app as celery_app


@pytest.mark.django_db
def test_healthz_is_ok_when_database_and_broker_answer(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True


def test_healthz_is_503_when_the_database_is_unreachable(client):
    # No django_db mark: pytest-django refuses every query, as a dead database would.
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["ok"] is False


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_unreachable(client, monkeypatch):
    # Port 9 (discard) is closed on loopback: a real connection refusal, not a mock. Celery reads
    # CELERY_BROKER_URL from the environment before its own configuration, so set both.
    # Order matters for the undo: the configuration is read (and later restored) before the
    # environment variable that would shadow it is set.
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:9/0")
    # The file-system broker's own transport class (CELERY_BROKER_TRANSPORT) would win over the URL.
    monkeypatch.setattr(celery_app.conf, "broker_transport", None)
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:9/0")
    monkeypatch.setattr(celery_app.conf, "broker_connection_timeout", 1)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def test_healthz_reveals_no_configuration(client, settings):
    text = client.get(reverse("healthz")).content.decode()
    for secret in (settings.SECRET_KEY, settings.DEBITURA_API_KEY, settings.DATABASES["default"]["NAME"]):
        assert secret
        assert secret not in text
