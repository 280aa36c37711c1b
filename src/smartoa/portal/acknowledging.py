"""Acknowledging from the portal: by the signed-in account, from its address, for the version the page showed."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from smartoa.consignes.acknowledgments import acknowledge
from smartoa.consignes.models import Acknowledgment
from smartoa.contracts.models import Contract
from smartoa.core.addresses import client_ip


def acknowledge_shown(request, contract: Contract, day: date, version: str) -> Acknowledgment:
    """Acknowledge ``contract``'s consigne of ``day`` in its own transaction, for ``version`` (the form's text: the
    number the page showed; anything else means the current version). Raises the service's UserError when
    refused (a version changed meanwhile, after HLAR, nothing published)."""
    with transaction.atomic():
        return acknowledge(
            contract,
            day,
            actor=request.user.email,
            channel="portal",
            ip=client_ip(request),
            user=request.user,
            version_number=int(version) if version.isdigit() else None,
        )
