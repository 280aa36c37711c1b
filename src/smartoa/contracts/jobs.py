"""The contracts' periodic job: token-expiry warnings (idempotent: once per token, threshold and account)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils.translation import gettext_lazy

from smartoa.contracts.expiry import warn_expiring_tokens
from smartoa.core.clock import now
from smartoa.jobs.engine import scheduled


@scheduled(
    "contracts.token_expiry", label=gettext_lazy("Avertissements d'expiration des jetons API"), every=timedelta(hours=1)
)
def token_expiry(counts: dict) -> None:
    with transaction.atomic():
        counts.update(warn_expiring_tokens(now()))
