"""Which contracts an account reaches: those where it holds a role (Producteur or Gestionnaire, the same rights).
Any other contract answers 404, never 403, so that ids cannot be probed."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404

from smartoa.accounts.models import Role
from smartoa.contracts.models import Contract


@dataclass(frozen=True)
class Holding:
    contract: Contract
    role: str  # Role.Kind

    @property
    def role_label(self) -> str:
        return str(Role.Kind(self.role).label)


def holdings(user) -> list[Holding]:
    """The account's contracts with its role on each, by contract id (one query)."""
    roles = Role.objects.filter(user=user).select_related("contract").order_by("contract__contract_id")
    return [Holding(role.contract, role.kind) for role in roles]


def contract_for(user, contract_id: str) -> Holding:
    """The contract ``contract_id`` if the account holds a role on it; Http404 otherwise (whether it exists or
    not)."""
    role = Role.objects.filter(user=user, contract__contract_id=contract_id).select_related("contract").first()
    if role is None:
        raise Http404("no such contract")
    return Holding(role.contract, role.kind)
