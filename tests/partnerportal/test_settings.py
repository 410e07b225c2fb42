"""The settings module as a whole, loaded in a fresh interpreter with a given environment."""

import pytest

from tests.fixtures.production import PRODUCTION_ENV, manage


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", env={**PRODUCTION_ENV, "VAR_DIR": str(tmp_path)}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_secret_key_is_required_when_debug_is_off(tmp_path):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = manage("check", env={**env, "VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECRET_KEY (or SECRET_KEY_FILE) must be set when DEBUG is off" in result.stderr


def test_makemigrations_check_runs_on_a_fresh_checkout_without_a_secret_key(tmp_path):
    # No DEBUG, no SECRET_KEY: what a clean clone has. The check reads models only.
    result = manage("makemigrations", "--check", "--dry-run", env={"VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "perhaps", "DEBUG must be a boolean"),
        ("DATABASE_URL", "oracle://x", "DATABASE_URL must start with sqlite:/// or postgres://"),
        ("CELERY_BROKER_URL", "amqp://guest@localhost//", "CELERY_BROKER_URL must be a URL starting with"),
        ("DEBITURA_BASE_URL", "collectionpartner-api.debitura.com", "DEBITURA_BASE_URL must be a URL"),
        ("TIME_ZONE", "Europe/Atlantis", "TIME_ZONE must be an IANA time zone"),
        ("SECURE_HSTS_SECONDS", "a year", "SECURE_HSTS_SECONDS must be a whole number"),
    ],
)
def test_malformed_variables_stop_start_up_with_a_clear_message(tmp_path, name, value, message):
    result = manage("check", env={**PRODUCTION_ENV, "VAR_DIR": str(tmp_path), name: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_the_api_key_can_come_from_a_secret_file(tmp_path):
    key_file = tmp_path / "api-key"
    key_file.write_text("from-a-file\n")
    env = {
        **PRODUCTION_ENV,
        "VAR_DIR": str(tmp_path),
        "DEBITURA_API_KEY": "",
        "DEBITURA_API_KEY_FILE": str(key_file),
    }
    result = manage(
        "shell", "-c", "from django.conf import settings; print(len(settings.DEBITURA_API_KEY))", env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(str(len("from-a-file")))
