"""Production refuses insecure settings at start; the clock can only be frozen in test."""

import pytest

from tests.subprocess_env import smartoa

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
@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SMARTOA_ENV": "staging"}, "SMARTOA_ENV"),
        ({"SMARTOA_NOW": "2025-09-21T12:55:05"}, "offset"),
        ({"SMARTOA_NOW": "yesterday"}, "SMARTOA_NOW"),
        ({"SMARTOA_TOKEN_LIFETIME_DAYS": "six"}, "integer"),
        ({"SMARTOA_EMAIL_URL": "pigeon://coop"}, "SMARTOA_EMAIL_URL"),
    ],
)
def test_bad_settings_are_named(env, message):
    result = smartoa("check", **env)
    assert result.returncode == 2 and message in result.stderr


def test_frozen_clock_in_test(settings):
    from smartoa.core.clock import now
    from smartoa.domain.calendar import parse_instant

    settings.SMARTOA_NOW = parse_instant("2025-09-21T12:55:05+02:00")
    assert now().isoformat() == "2025-09-21T10:55:05+00:00"
    settings.PRODUCTION = True
    assert now() != settings.SMARTOA_NOW  # never honoured in production, even if it slipped through
