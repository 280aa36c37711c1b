"""Compensation rules: pluggable, with explicit and recorded inputs; never a made-up number.

The official formula is not public (PRODUCT.md §7). A rule receives the month's steps of the contract's
episodes and the recorded inputs (estimated producible curve, price) and returns either an amount with the
inputs it used, or "not computable" with the reason: a stable code, its English text (what machines read in the
statements) and the parameters of that text, so that each page puts the reason in its own words. Register a rule
with ``@register``; the rule of a contract-month is the one named in its ``CompensationInput``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

import numpy as np

from smartoa.domain.errors import gettext_noop

COMPUTED = "computed"
NOT_COMPUTABLE = "not_computable"
# Why a compensation is not computable: each reason's code and English text, filled with its parameters (the French
# catalogue translates it; the portal's pages word each code themselves).
REASONS = {
    "no_inputs": gettext_noop("no compensation input recorded (producible, price)"),
    "no_price": gettext_noop("no price recorded"),
    "no_producible": gettext_noop("no estimated producible curve recorded"),
    "producible_gaps": gettext_noop("estimated producible missing on checked steps: %(gaps)s"),
    "unknown_rule": gettext_noop("unknown compensation rule %(rule)r"),
}


@dataclass(frozen=True)
class CompensationInputs:
    """What a rule may use. ``producible_kwh`` is aligned with ``StopSteps`` (NaN = no estimate)."""

    price_eur_per_mwh: Decimal | None = None
    producible_kwh: np.ndarray | None = None
    producible_source: str | None = None
    recorded_at: str | None = None
    recorded_by: str | None = None


@dataclass(frozen=True)
class StopSteps:
    """The steps of the contract's episodes of the month: consigne value, checked and breaching flags."""

    value: np.ndarray
    checked: np.ndarray
    breach: np.ndarray


@dataclass(frozen=True)
class CompensationResult:
    """An amount, or why there is none: ``reason_code`` (a key of REASONS) with its ``reason_params``; ``reason`` is
    its English text."""

    rule: str
    status: str
    amount_eur: float | None = None
    reason_code: str = ""
    reason_params: dict = field(default_factory=dict)
    inputs: dict = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return REASONS[self.reason_code] % self.reason_params if self.reason_code else ""

    def as_json(self) -> dict:
        return {
            "rule": self.rule,
            "status": self.status,
            "amount_eur": self.amount_eur,
            "reason": self.reason,
            "reason_code": self.reason_code,
            "reason_params": self.reason_params,
            "inputs": self.inputs,
        }


class CompensationRule(Protocol):
    name: str

    def compute(self, steps: StopSteps, inputs: CompensationInputs) -> CompensationResult: ...


RULES: dict[str, CompensationRule] = {}
DEFAULT_RULE = "producible_x_price"


def register(rule_class):
    """Class decorator: make a rule available by its ``name``."""
    RULES[rule_class.name] = rule_class()
    return rule_class


def not_computable(rule: str, reason: str, inputs: dict | None = None, /, **params: object) -> CompensationResult:
    """The result "not computable" for ``reason`` (a key of REASONS) with the parameters of its text."""
    return CompensationResult(
        rule=rule, status=NOT_COMPUTABLE, reason_code=reason, reason_params=params, inputs=inputs or {}
    )


@register
class ProducibleTimesPrice:
    """Illustrative rule (not the official formula): Σ producible energy × consigne value over the checked
    steps that did not breach, × price. Neutralised and breaching steps earn nothing."""

    name = "producible_x_price"

    def compute(self, steps: StopSteps, inputs: CompensationInputs) -> CompensationResult:
        recorded: dict[str, object] = {
            "price_eur_per_mwh": None if inputs.price_eur_per_mwh is None else str(inputs.price_eur_per_mwh),
            "producible_source": inputs.producible_source,
            "recorded_at": inputs.recorded_at,
            "recorded_by": inputs.recorded_by,
        }
        if inputs.price_eur_per_mwh is None:
            return not_computable(self.name, "no_price", recorded)
        if inputs.producible_kwh is None:
            return not_computable(self.name, "no_producible", recorded)
        eligible = steps.checked & ~steps.breach
        gaps = int((eligible & np.isnan(inputs.producible_kwh)).sum())
        if gaps:
            return not_computable(self.name, "producible_gaps", recorded, gaps=gaps)
        stopped_kwh = float(np.sum(inputs.producible_kwh[eligible] * steps.value[eligible]))
        amount = stopped_kwh / 1000.0 * float(inputs.price_eur_per_mwh)
        recorded["stopped_energy_kwh"] = round(stopped_kwh, 3)
        recorded["eligible_steps"] = int(eligible.sum())
        return CompensationResult(rule=self.name, status=COMPUTED, amount_eur=round(amount, 2), inputs=recorded)


def compute(rule_name: str | None, steps: StopSteps | None, inputs: CompensationInputs | None) -> CompensationResult:
    """Apply the named rule; "not computable" when no inputs were recorded or the rule is unknown."""
    if inputs is None:
        return not_computable(rule_name or "", "no_inputs")
    rule = RULES.get(rule_name or "")
    if rule is None:
        return not_computable(rule_name or "", "unknown_rule", rule=rule_name)
    if steps is None:
        raise TypeError("a rule needs the episodes' steps")
    return rule.compute(steps, inputs)
