from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from partnerportal.env import (
    database_from_url,
    env_bool,
    env_int,
    env_list,
    env_secret,
    env_str,
    env_timezone,
    env_url,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("TRUE", True), ("yes", True), ("0", False), ("off", False), ("", False)],
)
def test_env_bool_reads_common_spellings(raw, expected):
    assert env_bool("DEBUG", not expected, environ={"DEBUG": raw}) is expected


def test_env_bool_refuses_anything_else():
    with pytest.raises(ImproperlyConfigured, match="DEBUG must be a boolean"):
        env_bool("DEBUG", False, environ={"DEBUG": "maybe"})


def test_env_bool_default_when_unset():
    assert env_bool("DEBUG", True, environ={}) is True


def test_env_str_is_required_without_default():
    with pytest.raises(ImproperlyConfigured, match="NAME must be set"):
        env_str("NAME", environ={})


def test_env_int_parses_and_checks_bounds():
    assert env_int("N", 5, environ={"N": " 42 "}) == 42
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        env_int("N", 5, environ={"N": "4.2"})
    with pytest.raises(ImproperlyConfigured, match="at least 0"):
        env_int("N", 5, minimum=0, environ={"N": "-1"})


def test_env_list_splits_and_drops_blanks():
    assert env_list("HOSTS", [], environ={"HOSTS": "a.example, b.example,,"}) == ["a.example", "b.example"]
    assert env_list("HOSTS", ["x"], environ={}) == ["x"]


def test_env_secret_reads_the_file_variant(tmp_path: Path):
    secret_file = tmp_path / "key"
    secret_file.write_text("s3cret\n")
    assert env_secret("API_KEY", environ={"API_KEY_FILE": str(secret_file)}) == "s3cret"
    assert env_secret("API_KEY", environ={"API_KEY": "direct"}) == "direct"
    assert env_secret("API_KEY", environ={}) is None


def test_env_secret_refuses_both_forms_and_unreadable_or_empty_files(tmp_path: Path):
    empty = tmp_path / "empty"
    empty.write_text("  \n")
    with pytest.raises(ImproperlyConfigured, match="not both"):
        env_secret("API_KEY", environ={"API_KEY": "a", "API_KEY_FILE": str(empty)})
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        env_secret("API_KEY", environ={"API_KEY_FILE": str(tmp_path / "missing")})
    with pytest.raises(ImproperlyConfigured, match="is empty"):
        env_secret("API_KEY", environ={"API_KEY_FILE": str(empty)})


def test_env_url_checks_the_scheme_and_strips_the_trailing_slash():
    assert (
        env_url("U", "", schemes=("http", "https"), environ={"U": "https://api.example/"})
        == "https://api.example"
    )
    with pytest.raises(ImproperlyConfigured, match="must be a URL starting with"):
        env_url("U", "", schemes=("http", "https"), environ={"U": "ftp://api.example"})
    with pytest.raises(ImproperlyConfigured):
        env_url("U", "", schemes=("http", "https"), environ={"U": "https://"})


def test_env_timezone_accepts_iana_names_only():
    assert env_timezone("TZ", "UTC", environ={"TZ": "Europe/Copenhagen"}) == "Europe/Copenhagen"
    with pytest.raises(ImproperlyConfigured, match="IANA time zone"):
        env_timezone("TZ", "UTC", environ={"TZ": "Mars/Olympus"})


def test_database_url_sqlite_relative_path_lands_under_the_base_dir(tmp_path: Path):
    db = database_from_url("sqlite:///var/portal.sqlite3", base_dir=tmp_path)
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == str(tmp_path / "var/portal.sqlite3")


def test_database_url_sqlite_is_set_up_for_a_web_process_and_workers_sharing_the_file():
    db = database_from_url("sqlite:////srv/portal/db.sqlite3?timeout=1", base_dir=Path("/elsewhere"))
    assert db == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": "/srv/portal/db.sqlite3",
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
    assert database_from_url("sqlite:///:memory:", base_dir=Path("/"))["NAME"] == ":memory:"


def test_database_url_postgres_keeps_connections_and_checks_them():
    db = database_from_url("postgresql://app@db.internal/portal", base_dir=Path("/"))
    assert (db["CONN_MAX_AGE"], db["CONN_HEALTH_CHECKS"], db["PORT"], db["OPTIONS"]) == (60, True, "", {})


def test_database_url_postgres_over_a_unix_socket():
    db = database_from_url("postgres://app@/portal?host=/run/postgresql", base_dir=Path("/"))
    assert (db["HOST"], db["NAME"], db["OPTIONS"]) == ("/run/postgresql", "portal", {})


def test_database_url_postgres_options_are_typed_and_a_schema_becomes_the_search_path():
    db = database_from_url(
        "postgres://app@db/portal?connect_timeout=5&currentSchema=portal", base_dir=Path("/")
    )
    assert db["OPTIONS"] == {"connect_timeout": 5, "options": "-c search_path=portal"}


def test_database_url_postgres_parts():
    db = database_from_url(
        "postgres://app:p%40ss@db.internal:6543/portal?sslmode=require", base_dir=Path("/")
    )
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "portal",
        "app",
        "p@ss",
        "db.internal",
        "6543",
    )
    assert db["OPTIONS"] == {"sslmode": "require"}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://x@y/z", "must start with sqlite:/// or postgres://"),
        ("postgres://user@host/", "needs a database name"),
        ("postgres:///portal", "needs a host"),
        ("postgres://user@host:port/db", "port that is not a number"),
        ("sqlite://", "needs a file path"),
        ("sqlite:///", "needs a file path"),
        ("postgis://user@host/db", "must start with sqlite:/// or postgres://"),
        ("postgres://user@[::1/db", "not %-quoted"),
    ],
)
def test_database_url_refuses_malformed_values(url, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        database_from_url(url, base_dir=Path("/"))
