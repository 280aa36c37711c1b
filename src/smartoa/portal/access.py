"""Which contracts an account reaches: those where it holds a role (Producteur or Gestionnaire, the same rights).
Any other contract answers 404, never 403, so that ids cannot be probed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.http import Http404

from smartoa.accounts.models import Role
from smartoa.audit.queries import role_lost_at
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


class ContractNotHeld(Http404):
    """A contract the account holds no role on, whether it exists or not: 404. ``lost_at``: when the account lost
    its role on it, if it once held one (its 404 page says so; anyone else learns nothing)."""

    def __init__(self, contract_id: str, lost_at: datetime | None):
        super().__init__("no such contract")
        self.contract_id = contract_id
        self.lost_at = lost_at


def contract_for(user, contract_id: str) -> Holding:
    """The contract ``contract_id`` if the account holds a role on it; ContractNotHeld (a 404) otherwise."""
    role = Role.objects.filter(user=user, contract__contract_id=contract_id).select_related("contract").first()
    if role is None:
        raise ContractNotHeld(contract_id, role_lost_at(user.pk, contract_id))
    return Holding(role.contract, role.kind)
