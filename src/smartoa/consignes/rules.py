"""The operator rules of publication and modification, in one place: every door (command line, admin operation,
back office, job) calls the services, and the services apply these checks.

A day cannot be published or modified from its change deadline on (HLAR − SMARTOA_MODIFICATION_CUTOFF_MINUTES,
``deadlines.cutoff_for_hlar``), nor for an inactive or ineligible contract — unless an operator forces it with a
``Force`` (a reason, recorded in the audit with ``forced: true``). An unknown contract, a day already published
or an identical change are refused whatever the force.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.utils.translation import gettext_noop

from smartoa.contracts.models import Contract, EligibilityRule
from smartoa.contracts.services import NotEligible, eligibility, eligibility_rules_on
from smartoa.domain.deadlines import change_cutoff, is_open
from smartoa.domain.errors import DeadlinePassed, InvalidInput, UserError, at_most
from smartoa.domain.text import check_text

MAX_REASON = 1000
MAX_PROBLEMS = 50


class ReasonRequired(InvalidInput):
    code = "reason_required"


class ContractInactive(NotEligible):
    code = "contract_inactive"


@dataclass(frozen=True)
class Force:
    """An operator's decision to act despite the rules, and why (kept in the audit log). A blank reason is
    refused (ReasonRequired)."""

    reason: str

    def __post_init__(self):
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise ReasonRequired(gettext_noop("a reason is required to force an action past the rules"))
        reason = check_text(self.reason.strip(), field="reason", max_length=MAX_REASON, multiline=True)
        object.__setattr__(self, "reason", reason)


def forced(force: bool, reason: str | None) -> Force | None:
    """The ``Force`` of a door's "force" option with its reason (ReasonRequired when the reason is missing), or
    None when not asked."""
    return Force(reason or "") if force else None


def audit_of(force: Force | None, problems: list[UserError]) -> dict:
    """The audit details of an action under the rules: ``forced`` (rules were overridden) and the reason."""
    if force is None or not problems:
        return {"forced": False}
    return {"forced": True, "force_reason": force.reason, "overridden": sorted({p.code for p in problems})}


def day_closed(day: date, hlar: datetime, moment: datetime) -> DeadlinePassed | None:
    """Why ``day`` can no longer be published or changed at ``moment`` (its change deadline passed), or None."""
    cutoff = change_cutoff(hlar, settings.SMARTOA_MODIFICATION_CUTOFF_MINUTES)  # deadlines.cutoff_for_hlar
    if is_open(moment, cutoff):
        return None
    return DeadlinePassed(
        gettext_noop(
            "%(day)s: publication and changes closed at %(cutoff)s (HLAR %(hlar)s − %(minutes)s min); postpone the "
            "day's HLAR, or force it with a reason"
        ),
        day=day,
        cutoff=cutoff,
        hlar=hlar,
        minutes=settings.SMARTOA_MODIFICATION_CUTOFF_MINUTES,
    )


def not_in_scope(contract: Contract, day: date, rules: Mapping[str, EligibilityRule]) -> NotEligible | None:
    """Why ``contract`` may get no consigne for ``day`` (inactive, or ineligible: the reason), or None."""
    if not contract.active:
        return ContractInactive(
            gettext_noop("%(contract_id)s: the contract is inactive; force it with a reason"),
            contract_id=contract.contract_id,
        )
    reason = eligibility(contract, day, dict(rules))
    if reason is None:
        return None
    return NotEligible(
        gettext_noop("%(contract_id)s: not eligible on %(day)s (%(reason)s); force it with a reason"),
        contract_id=contract.contract_id,
        day=day,
        reason=reason,
    )


def rule_problems(
    pairs: Iterable[tuple[Contract, date]], hlars: Mapping[date, datetime], moment: datetime
) -> list[UserError]:
    """Every rule the (contract, day) pairs break at ``moment``: each closed day once, then each contract out of
    scope on its day. Reads the eligibility rules of each day (one query per day)."""
    pairs = list(pairs)
    days = sorted({day for _, day in pairs})
    problems: list[UserError] = [p for day in days if (p := day_closed(day, hlars[day], moment)) is not None]
    rules = {day: eligibility_rules_on(day) for day in days}
    seen = set()
    for contract, day in pairs:
        if (contract.pk, day) in seen:
            continue
        seen.add((contract.pk, day))
        if (problem := not_in_scope(contract, day, rules[day])) is not None:
            problems.append(problem)
    return problems


def enforce(problems: list[UserError], force: Force | None, header: str) -> dict:
    """Refuse (the first problem's kind, ``header`` naming every problem) when rules are broken and not forced;
    else the audit details of the action (``audit_of``)."""
    if problems and force is None:
        refusal = type(problems[0])
        raise refusal(header, problems=at_most(problems, MAX_PROBLEMS))
    return audit_of(force, problems)
