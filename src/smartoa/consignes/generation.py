"""Generation of a day's consignes for every eligible contract from the 15-minute prices. Callers own the
transaction.

``plan_generation`` builds the plan without writing: the schedule, the contracts it goes to, and what the
operator must see before publishing — the active contracts left out as ineligible (with the reason), the ones
excluded by hand, the ones already published. ``publish_plan`` publishes it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.utils.translation import gettext_noop

from smartoa.consignes.models import Consigne
from smartoa.consignes.rules import Force
from smartoa.consignes.services import publish
from smartoa.contracts.models import Contract
from smartoa.contracts.services import NotEligible, contracts_by_id, eligibility, eligibility_rules_on
from smartoa.domain.errors import InvalidInput, NotFound
from smartoa.domain.generation import describe, generate_periods
from smartoa.domain.prices import parse_prices
from smartoa.domain.schedule import ConsigneDocument, Period


@dataclass(frozen=True)
class Ineligible:
    """An active contract the generation leaves out, and why (``contracts.services.eligibility``)."""

    contract: Contract
    reason: NotEligible


@dataclass
class GenerationPlan:
    """What a generation would publish: one schedule for every eligible contract not excluded.

    ``ineligible`` lists the active contracts out of scope on the day with their reason; ``excluded`` the eligible
    ones left out by hand; ``already_published`` the chosen ones that already have a consigne that day (publishing
    the plan is refused while any is left in).
    """

    day: date
    threshold: float
    periods: tuple[Period, ...]
    contracts: list[Contract]
    excluded: list[str] = field(default_factory=list)
    already_published: list[str] = field(default_factory=list)
    ineligible: list[Ineligible] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return describe(self.periods)

    @property
    def has_stop(self) -> bool:
        return any(p.value > 0 for p in self.periods)

    def groups(self) -> list[tuple[str, list[str]]]:
        """(schedule summary, contract ids) per identical schedule."""
        if not self.contracts:
            return []
        return [(self.summary, [c.contract_id for c in self.contracts])]

    def documents(self) -> list[ConsigneDocument]:
        return [ConsigneDocument(c.contract_id, self.day, self.periods) for c in self.contracts]

    def fingerprint(self) -> str:
        """A digest of what publishing the plan would write (day, schedule, contracts): a preview shown to an
        operator and the plan published on confirmation must have the same one."""
        content = {
            "day": self.day.isoformat(),
            "periods": [p.as_json() for p in self.periods],
            "contracts": [c.contract_id for c in self.contracts],
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


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
        template = (
            gettext_noop("unknown contract to exclude: %(ids)s")
            if len(unknown) == 1
            else gettext_noop("unknown contracts to exclude: %(ids)s")
        )
        raise NotFound(template, ids=", ".join(u[:40] for u in unknown[:20]))
    rules = eligibility_rules_on(day)
    eligible: list[Contract] = []
    ineligible: list[Ineligible] = []
    for contract in Contract.objects.filter(active=True).order_by("contract_id"):
        reason = eligibility(contract, day, rules)
        if reason is None:
            eligible.append(contract)
        else:
            ineligible.append(Ineligible(contract, reason))
    published = set(Consigne.objects.filter(delivery_day=day).values_list("contract_id", flat=True).iterator())
    chosen = [c for c in eligible if c.contract_id not in excluded]
    return GenerationPlan(
        day=day,
        threshold=threshold,
        periods=periods,
        contracts=chosen,
        excluded=sorted(c.contract_id for c in eligible if c.contract_id in excluded),
        already_published=[c.contract_id for c in chosen if c.pk in published],
        ineligible=ineligible,
    )


def publish_plan(plan: GenerationPlan, *, actor: str, force: Force | None = None):
    """Publish the plan's consignes (first versions) through ``services.publish``: refused if any is already
    published and, unless ``force``d with a reason, from the day's change deadline on (``rules.py``)."""
    if not plan.contracts:
        raise InvalidInput(gettext_noop("no eligible contract left to publish for %(day)s"), day=plan.day)
    return publish(plan.documents(), actor=actor, contracts={c.contract_id: c for c in plan.contracts}, force=force)
