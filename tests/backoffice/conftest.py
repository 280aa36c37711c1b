"""Fixtures of the back-office tests: an operator signed in on the test client, and the e-mails sent or queued.

The back office's browser tests are ``tests/portal/test_backoffice_browser.py``: they share the portal's
session-wide chromium (Playwright's synchronous API allows one running instance per thread, so a second
session fixture here would fail whenever both suites run together)."""

from __future__ import annotations

import pytest
from django.core import mail

from smartoa.notifications.models import OutboxMessage
from smartoa.notifications.outbox import rendered
from tests.factories import make_operator


@pytest.fixture
def operator(client, db):
    """The test client, signed in as the operator ops@example.org (past password and TOTP)."""
    make_operator(client)
    return client


@pytest.fixture
def emails():
    """emails(address) → the bodies of the e-mails to ``address``, sent or waiting in the outbox."""

    def to(address: str) -> list[str]:
        bodies = [m.body for m in mail.outbox if address in m.to]
        queued = OutboxMessage.objects.filter(kind="email", recipient=address).exclude(context={}).order_by("pk")
        return bodies + [body for body in (rendered(m)[1] for m in queued) if body not in bodies]

    return to
