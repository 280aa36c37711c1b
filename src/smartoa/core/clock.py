"""The platform's one source of "now".

In the test environment ``SMARTOA_NOW`` freezes it (settings refuse it in production).
"""

from datetime import UTC, datetime

from django.conf import settings


def now() -> datetime:
    """Return the current aware datetime (UTC), or the frozen ``SMARTOA_NOW`` in the test environment."""
    frozen = settings.SMARTOA_NOW
    if frozen is not None and not settings.PRODUCTION:
        return frozen.astimezone(UTC)
    return datetime.now(UTC)
