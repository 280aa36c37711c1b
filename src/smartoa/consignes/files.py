"""Publication from a consignes file (the API's document format, one document or a list), planned before it is
written, as a generation from prices is (``generation.py``). Callers own the transaction.

``plan_file`` reads and checks the file (every bad document named, nothing kept) and says what publishing it
would do: the consignes by identical schedule, the contracts excluded by hand, those already published that
day, those not eligible that day (with the reason). ``publish_file_plan`` publishes it through
``services.publish`` — the service of ``smartoa consignes publish``, whose rules (``rules.py``) the plan lists
when they would refuse it unless forced.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext_noop

from smartoa.consignes.deadlines import hlars_for
from smartoa.consignes.models import Consigne
from smartoa.consignes.rules import Force, rule_problems
from smartoa.consignes.services import Published, load_documents, publish
from smartoa.contracts.models import Contract
from smartoa.contracts.services import NotEligible, contracts_by_id, eligibility, eligibility_rules_on
from smartoa.core.clock import now
from smartoa.domain.errors import InvalidInput, NotFound, UserError
from smartoa.domain.schedule import ConsigneDocument, Period


@dataclass(frozen=True)
class Group:
    """The contracts that would receive one schedule on one day."""

    day: date
    periods: tuple[Period, ...]
    contract_ids: list[str]

    @property
    def has_stop(self) -> bool:
        return any(p.value > 0 for p in self.periods)


@dataclass(frozen=True)
class Ineligible:
    document: ConsigneDocument
    reason: NotEligible


@dataclass
class FilePlan:
    """What publishing a consignes file would do. ``chosen``: its documents not excluded by hand;
    ``already_published`` and ``ineligible``: among them, those a publication refuses or the operator should
    look at."""

    documents: list[ConsigneDocument]
    contracts: dict[str, Contract]
    excluded: list[str] = field(default_factory=list)
    already_published: list[ConsigneDocument] = field(default_factory=list)
    ineligible: list[Ineligible] = field(default_factory=list)
    refusals: list[UserError] = field(default_factory=list)  # the rules a publication now breaks (``rules.py``)

    @property
    def chosen(self) -> list[ConsigneDocument]:
        left_out = set(self.excluded)
        return [d for d in self.documents if d.contract_id not in left_out]

    @property
    def days(self) -> list[date]:
        return sorted({d.delivery_day for d in self.chosen} or {d.delivery_day for d in self.documents})

    @property
    def stops(self) -> int:
        return sum(1 for d in self.chosen if d.has_stop)

    def groups(self) -> list[Group]:
        """The chosen documents by day, then identical schedule (in the file's order)."""
        found: dict[tuple[date, tuple[Period, ...]], list[str]] = {}
        for d in sorted(self.chosen, key=lambda d: d.delivery_day):
            found.setdefault((d.delivery_day, d.periods), []).append(d.contract_id)
        return [Group(day, periods, ids) for (day, periods), ids in found.items()]

    def ids_already_published(self) -> list[str]:
        return sorted({d.contract_id for d in self.already_published})

    def ids_ineligible(self) -> list[str]:
        return sorted({item.document.contract_id for item in self.ineligible})

    def fingerprint(self) -> str:
        """A digest of what publishing the plan would write: its preview and its confirmation must agree."""
        content = [[d.contract_id, d.delivery_day.isoformat(), [p.as_json() for p in d.periods]] for d in self.chosen]
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def plan_file(text: str, *, exclude=()) -> FilePlan:
    """Read a consignes file and plan its publication without writing. InvalidInput naming every bad document;
    NotFound for an excluded id that is not a contract."""
    documents = load_documents(text)
    contracts = contracts_by_id(d.contract_id for d in documents)
    excluded = set(exclude)
    unknown = sorted(excluded - contracts_by_id(excluded).keys())
    if unknown:
        template = (
            gettext_noop("unknown contract to exclude: %(ids)s")
            if len(unknown) == 1
            else gettext_noop("unknown contracts to exclude: %(ids)s")
        )
        raise NotFound(template, ids=", ".join(u[:40] for u in unknown[:20]))
    plan = FilePlan(documents, contracts, excluded=sorted(excluded & contracts.keys()))
    chosen = plan.chosen
    days = {d.delivery_day for d in chosen}
    published = set(
        Consigne.objects.filter(delivery_day__in=days, contract_id__in=[c.pk for c in contracts.values()])
        .values_list("contract_id", "delivery_day")
        .iterator()
    )
    rules = {day: eligibility_rules_on(day) for day in days}
    for d in chosen:
        contract = contracts[d.contract_id]
        if (contract.pk, d.delivery_day) in published:
            plan.already_published.append(d)
        reason = eligibility(contract, d.delivery_day, rules[d.delivery_day])
        if reason is not None:
            plan.ineligible.append(Ineligible(d, reason))
    pairs = [(contracts[d.contract_id], d.delivery_day) for d in chosen]
    plan.refusals = rule_problems(pairs, hlars_for(days), now()) if pairs else []
    return plan


def publish_file_plan(plan: FilePlan, *, actor: str, force: Force | None = None) -> list[Published]:
    """Publish the plan's chosen consignes (first versions) through ``services.publish``, all or nothing: refused
    when none is left, when one is already published and, unless ``force``d with a reason, from a day's change
    deadline on or for an inactive or ineligible contract (``rules.py``)."""
    if not plan.chosen:
        raise InvalidInput(gettext_noop("no consigne left to publish: every contract of the file is excluded"))
    return publish(plan.chosen, actor=actor, contracts=plan.contracts, force=force)
