"""The accounts' queued work: the forgotten password's e-mail.

The forgotten-password page does the same work whatever address it is given (it records the request and queues
this job), so that its answer time does not tell whether the address has an account. The job looks the account
up and writes the e-mail to the outbox, which delivers it and retries while the mail server is down.
"""

from __future__ import annotations

import logging

from django.db import transaction

from smartoa.accounts.security import send_password_reset
from smartoa.jobs.engine import task

logger = logging.getLogger(__name__)


def _write_password_reset(email: str, ip: str | None) -> None:
    with transaction.atomic():
        send_password_reset(email, ip=ip)


@task(retries=2, retry_delay=30)
def password_reset(email: str, ip: str | None) -> None:
    """E-mail the account of ``email``, if there is one, a link to choose a new password (through the outbox)."""
    _write_password_reset(email, ip)


def queue_password_reset(email: str, ip: str | None) -> None:
    """Queue ``password_reset``; when the queue cannot be reached, do the work at once rather than lose the
    request (the answer time then depends on the account, for as long as the queue is unreachable)."""
    try:
        password_reset(email, ip)
    except Exception:
        logger.warning("could not queue the forgotten-password e-mail; writing it at once", exc_info=True)
        _write_password_reset(email, ip)
