"""Production is the default and refuses insecure settings at start; nonsensical values are refused everywhere;
the clock can only be frozen in test; importing the settings creates nothing."""

import subprocess
import sys

import pytest

from tests.subprocess_env import smartoa, subprocess_env

SECURE = {"SMARTOA_ENV": "production", "SMARTOA_SECRET_KEY": "s" * 50, "SMARTOA_ALLOWED_HOSTS": "api.example.fr"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"SMARTOA_SECRET_KEY": ""}, "SMARTOA_SECRET_KEY"),
        ({"SMARTOA_SECRET_KEY": "insecure-test-key"}, "SMARTOA_SECRET_KEY"),
        ({"SMARTOA_SECRET_KEY": "short"}, "SMARTOA_SECRET_KEY"),
        ({"SMARTOA_DEBUG": "true"}, "SMARTOA_DEBUG"),
        ({"SMARTOA_ALLOWED_HOSTS": ""}, "SMARTOA_ALLOWED_HOSTS"),
        ({"SMARTOA_NOW": "2025-09-21T12:55:05+02:00"}, "SMARTOA_NOW"),
        ({"SMARTOA_ALLOWED_HOSTS": "*"}, "wildcard"),
        ({"SMARTOA_ALLOWED_HOSTS": "api.example.fr,*"}, "wildcard"),
        ({"SMARTOA_ALLOWED_HOSTS": ".example.fr"}, "wildcard"),
        ({"SMARTOA_ALLOWED_HOSTS": "api.*.fr"}, "wildcard"),
    ],
)
def test_production_refuses_to_start(override, message):
    result = smartoa("check", **{**SECURE, **override})
    assert result.returncode == 2
    assert "refusing to start in production" in result.stderr and message in result.stderr


@pytest.mark.django_db(transaction=True)
def test_production_starts_when_secure():
    result = smartoa("check", **SECURE)
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("env", [{"SMARTOA_ENV": ""}, {"SMARTOA_ENV": " "}])
def test_production_is_the_default(env):
    """Without SMARTOA_ENV, the platform is in production: it refuses to start without a secret key."""
    result = smartoa("check", **env)
    assert result.returncode == 2
    assert "refusing to start in production" in result.stderr and "SMARTOA_SECRET_KEY" in result.stderr
    assert smartoa("check", **{**SECURE, **env}).returncode == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SMARTOA_ENV": "staging"}, "SMARTOA_ENV"),
        ({"SMARTOA_NOW": "2025-09-21T12:55:05"}, "offset"),
        ({"SMARTOA_NOW": "yesterday"}, "SMARTOA_NOW"),
        ({"SMARTOA_TOKEN_LIFETIME_DAYS": "six"}, "integer"),
        ({"SMARTOA_TOKEN_LIFETIME_DAYS": "0"}, "SMARTOA_TOKEN_LIFETIME_DAYS must be at least 1"),
        ({"SMARTOA_TOKEN_LIFETIME_DAYS": "-30"}, "SMARTOA_TOKEN_LIFETIME_DAYS must be at least 1"),
        ({"SMARTOA_MODIFICATION_CUTOFF_MINUTES": "-5"}, "SMARTOA_MODIFICATION_CUTOFF_MINUTES"),
        ({"SMARTOA_HISTORY_MAX_DAYS": "0"}, "SMARTOA_HISTORY_MAX_DAYS"),
        ({"SMARTOA_TOLERANCE_PERCENT": "150"}, "SMARTOA_TOLERANCE_PERCENT must be at most 100"),
        ({"SMARTOA_TOLERANCE_KWH": "-1"}, "SMARTOA_TOLERANCE_KWH"),
        ({"SMARTOA_PRICE_THRESHOLD": "nan"}, "finite"),
        ({"SMARTOA_PRICE_THRESHOLD": "inf"}, "finite"),
        ({"SMARTOA_WORKERS": "0"}, "SMARTOA_WORKERS"),
        ({"SMARTOA_THREADS": "0"}, "SMARTOA_THREADS"),
        ({"SMARTOA_PG_PREPARE": "-1"}, "SMARTOA_PG_PREPARE"),
        ({"SMARTOA_DB_TIMEOUT": "0"}, "SMARTOA_DB_TIMEOUT must be above 0"),
        ({"SMARTOA_DB_PAGE_TIMEOUT": "-1"}, "SMARTOA_DB_PAGE_TIMEOUT"),
        ({"SMARTOA_API_FAILURE_RATE": "lots"}, "SMARTOA_API_FAILURE_RATE"),
        ({"SMARTOA_API_FAILURE_RATE": "0/m"}, "SMARTOA_API_FAILURE_RATE"),
        ({"SMARTOA_CACHE_URL": "memcached://127.0.0.1"}, "SMARTOA_CACHE_URL"),
        ({"SMARTOA_LOG_LEVEL": "LOUD"}, "SMARTOA_LOG_LEVEL"),
        ({"SMARTOA_TRUSTED_PROXIES": "10.0.0.5,proxy.local"}, "SMARTOA_TRUSTED_PROXIES"),
        ({"SMARTOA_TRUSTED_PROXIES": "10.0.0.0/8"}, "SMARTOA_TRUSTED_PROXIES"),
        ({"SMARTOA_EMAIL_URL": "pigeon://coop"}, "SMARTOA_EMAIL_URL"),
        ({"SMARTOA_LOGIN_FAILURES_PER_ADDRESS": "4"}, "SMARTOA_LOGIN_FAILURES_PER_ADDRESS must be at least 5"),
    ],
)
def test_bad_settings_are_named(env, message):
    """In the test environment as in production: these are mistakes, not insecure choices."""
    for environment in ({}, SECURE):
        result = smartoa("check", **{**environment, **env})
        assert result.returncode == 2 and message in result.stderr, result.stderr


def test_trusted_proxies_are_stored_as_client_ip_compares_them(monkeypatch):
    from smartoa import settings as module

    monkeypatch.setenv("SMARTOA_TRUSTED_PROXIES", " 2001:0DB8::0001 , ::ffff:10.0.0.5,10.0.0.6")
    assert module._trusted_proxies() == frozenset({"2001:db8::1", "10.0.0.5", "10.0.0.6"})


def test_importing_the_settings_creates_nothing(tmp_path):
    data = tmp_path / "data"
    env = subprocess_env(SMARTOA_DATA_DIR=str(data), DATABASE_URL="")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            (
                "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'smartoa.settings'; "
                "django.setup(); from django.conf import settings; print(settings.DATABASES['default']['NAME'])"
            ),
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(data / "smartoa.sqlite3")
    assert list(tmp_path.iterdir()) == []


def test_frozen_clock_in_test(settings):
    from smartoa.core.clock import now
    from smartoa.domain.calendar import parse_instant

    settings.SMARTOA_NOW = parse_instant("2025-09-21T12:55:05+02:00")
    assert now().isoformat() == "2025-09-21T10:55:05+00:00"
    settings.PRODUCTION = True
    assert now() != settings.SMARTOA_NOW  # never honoured in production, even if it slipped through


def read_setting(name: str, **env: str) -> str:
    """A setting's value as a process started with ``env`` reads it."""
    code = f"import smartoa.settings as s; print(s.{name})"
    result = subprocess.run(
        [sys.executable, "-c", code], env=subprocess_env(**env), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_an_address_is_locked_after_ten_times_an_accounts_failures_by_default():
    assert read_setting("SMARTOA_LOGIN_FAILURES_PER_ADDRESS", SMARTOA_LOGIN_FAILURES="7") == "70"
    limit = read_setting("SMARTOA_LOGIN_FAILURES_PER_ADDRESS", SMARTOA_LOGIN_FAILURES_PER_ADDRESS="12")
    assert limit == "12"
