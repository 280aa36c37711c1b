"""Token-expiry warnings: the accounts of a contract are told SMARTOA_TOKEN_WARNING_DAYS (30 and 7) days before
its active token expires, once per token and threshold. Callers own the transaction; the e-mails go through the
outbox, whose dedupe keys make a second run send nothing."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings

from smartoa.contracts.models import ApiToken
from smartoa.notifications.events import TokenWarning, token_expiring


def threshold(remaining: timedelta, thresholds: tuple[int, ...]) -> int | None:
    """The smallest threshold (in days) that ``remaining`` has reached, if any."""
    reached = [days for days in thresholds if remaining <= timedelta(days=days)]
    return min(reached) if reached else None


def warn_expiring_tokens(moment: datetime) -> Counter:
    """E-mail the accounts of the active contracts whose token expires within the largest threshold, for the
    closest threshold reached (a token found 5 days before its expiry gets the 7-day warning only). Returns the
    counts (tokens, e-mails)."""
    thresholds = settings.SMARTOA_TOKEN_WARNING_DAYS
    tokens = ApiToken.objects.filter(
        revoked_at__isnull=True,
        contract__active=True,
        expires_at__gt=moment,
        expires_at__lte=moment + timedelta(days=max(thresholds)),
    ).select_related("contract")
    warnings = []
    for token in tokens.order_by("pk"):
        days = threshold(token.expires_at - moment, thresholds)
        if days is not None:
            warnings.append(
                TokenWarning(
                    token.pk,
                    token.prefix,
                    token.expires_at,
                    token.contract_id,
                    token.contract.contract_id,
                    token.contract.label,
                    days,
                )
            )
    return Counter(tokens=len(warnings), emails=token_expiring(warnings))
