"""Token-expiry warnings, run as the worker runs them on the platform's clock: 30 and 7 days before the active
token expires, to the contract's accounts, once per token and threshold; none for a revoked token or an inactive
contract; a new token starts again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from smartoa.contracts.expiry import threshold
from smartoa.contracts.jobs import token_expiry
from smartoa.contracts.services import issue_token, revoke_tokens, set_active
from smartoa.jobs.models import JobRun
from smartoa.notifications.outbox import rendered
from tests.factories import add_account, clock, outbox, paris

ISSUED = paris("2026-06-01", "10:00")


def run(moment) -> dict:
    with clock(moment):
        token_expiry.call_local()
    return JobRun.objects.filter(name="contracts.token_expiry").latest("started_at", "id").counts


def warnings() -> list:
    return outbox(event="token.expiring")


@pytest.fixture
def token(db, make_contract, settings):
    """BOA00001 (held by a@, managed by m@) with a token issued on 1 June 2026, valid 183 days."""
    settings.SMARTOA_TOKEN_LIFETIME_DAYS = 183
    contract = make_contract("BOA00001")
    add_account(contract, "a@example.fr")
    add_account(contract, "m@example.com", "manager", language="en")
    with transaction.atomic(), clock(ISSUED):
        _, token = issue_token(contract, actor="test")
    return token


def test_the_thresholds():
    assert threshold(timedelta(days=31), (30, 7)) is None
    assert threshold(timedelta(days=30), (30, 7)) == 30
    assert threshold(timedelta(days=7, seconds=1), (30, 7)) == 30
    assert threshold(timedelta(days=6), (30, 7)) == 7


def test_warned_30_then_7_days_ahead_once_each(token):
    expires = token.expires_at
    assert run(expires - timedelta(days=30, seconds=1)) == {"tokens": 0, "emails": 0}
    assert run(expires - timedelta(days=30)) == {"tokens": 1, "emails": 2}
    mails = {m.recipient: rendered(m) for m in warnings()}
    assert sorted(mails) == ["a@example.fr", "m@example.com"]
    subject, body = mails["a@example.fr"]
    assert subject == "SMART OA — le jeton API du contrat BOA00001 expire le 01/12/2026"
    assert f"Le jeton API {token.prefix}… du contrat BOA00001" in body and "01/12/2026 à 09:00" in body  # winter
    assert "expires on 01/12/2026" in mails["m@example.com"][1]
    assert run(expires - timedelta(days=29)) == {"tokens": 1, "emails": 0}  # not twice
    assert run(expires - timedelta(days=7)) == {"tokens": 1, "emails": 2}
    assert run(expires - timedelta(days=1)) == {"tokens": 1, "emails": 0}
    assert run(expires) == {"tokens": 0, "emails": 0}  # expired: nothing more to say
    assert len(warnings()) == 4


def test_a_token_found_late_gets_the_closest_warning_only(token):
    assert run(token.expires_at - timedelta(days=5)) == {"tokens": 1, "emails": 2}
    assert run(token.expires_at - timedelta(days=4)) == {"tokens": 1, "emails": 0}
    assert {m.dedupe_key.split(":")[2] for m in warnings()} == {"7"}


def test_no_warning_for_a_revoked_token_or_an_inactive_contract(token):
    with transaction.atomic():
        set_active(token.contract, False, actor="ops")
    assert run(token.expires_at - timedelta(days=20)) == {"tokens": 0, "emails": 0}
    with transaction.atomic():
        set_active(token.contract, True, actor="ops")
        revoke_tokens(token.contract, actor="ops")
    assert run(token.expires_at - timedelta(days=20)) == {"tokens": 0, "emails": 0}
    assert warnings() == []


def test_a_new_token_is_warned_about_again(token):
    run(token.expires_at - timedelta(days=20))
    with transaction.atomic(), clock(token.expires_at - timedelta(days=10)):
        _, renewed = issue_token(token.contract, actor="test")
    assert run(renewed.expires_at - timedelta(days=20)) == {"tokens": 1, "emails": 2}
    assert len(warnings()) == 4
