"""Generation of a day's consignes for every eligible contract from the 15-minute prices. Callers own the
transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.conf import settings

from smartoa.consignes.models import Consigne
from smartoa.consignes.services import publish
from smartoa.contracts.models import Contract
from smartoa.contracts.services import contracts_by_id, eligible_contracts
from smartoa.domain.errors import InvalidInput, NotFound
from smartoa.domain.generation import describe, generate_periods
from smartoa.domain.prices import parse_prices
from smartoa.domain.schedule import ConsigneDocument, Period


@dataclass
class GenerationPlan:
    """What a generation would publish: one schedule for every eligible contract not excluded."""

    day: date
    threshold: float
    periods: tuple[Period, ...]
    contracts: list[Contract]
    excluded: list[str] = field(default_factory=list)
    already_published: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return describe(self.periods)

    def groups(self) -> list[tuple[str, list[str]]]:
        """(schedule summary, contract ids) per identical schedule."""
        if not self.contracts:
            return []
        return [(self.summary, [c.contract_id for c in self.contracts])]

    def documents(self) -> list[ConsigneDocument]:
        return [ConsigneDocument(c.contract_id, self.day, self.periods) for c in self.contracts]


def parse_exclusions(text: str) -> list[str]:
    """Contract ids from ``ID,ID`` or one-per-line text (blank lines and # comments ignored)."""
    ids: list[str] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        ids.extend(part.strip() for part in line.split(",") if part.strip())
    return ids


def plan_generation(prices_text: str, day: date, *, exclude=(), threshold: float | None = None) -> GenerationPlan:
    """Build (without writing) the day's consignes from a price file. InvalidInput on a bad file, NotFound for
    an unknown excluded id."""
    threshold = settings.SMARTOA_PRICE_THRESHOLD if threshold is None else threshold
    prices = parse_prices(prices_text, day)
    periods = generate_periods(day, prices, threshold)
    excluded = set(exclude)
    unknown = sorted(excluded - contracts_by_id(excluded).keys())
    if unknown:
        raise NotFound("unknown contract(s) to exclude: %(ids)s", ids=", ".join(u[:40] for u in unknown[:20]))
    eligible = eligible_contracts(day)
    published = set(Consigne.objects.filter(delivery_day=day).values_list("contract_id", flat=True).iterator())
    chosen = [c for c in eligible if c.contract_id not in excluded]
    return GenerationPlan(
        day=day,
        threshold=threshold,
        periods=periods,
        contracts=chosen,
        excluded=sorted(c.contract_id for c in eligible if c.contract_id in excluded),
        already_published=[c.contract_id for c in chosen if c.pk in published],
    )


def publish_plan(plan: GenerationPlan, *, actor: str):
    """Publish the plan's consignes (first versions); refused if any is already published."""
    if not plan.contracts:
        raise InvalidInput("no eligible contract left to publish for %(day)s", day=plan.day.isoformat())
    return publish(plan.documents(), actor=actor, contracts={c.contract_id: c for c in plan.contracts})
