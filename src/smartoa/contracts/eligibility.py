"""Eligibility as a SQL condition: the contracts ``services.eligibility`` finds in scope, for pages that count,
filter and paginate them in the database. The rules themselves (``EligibilityRule``, dated data) and the reason a
contract is out of scope live in ``services.py``; both forms are checked against each other
(``tests/backoffice/test_board_queries.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from django.db.models import Q

from smartoa.contracts.models import EligibilityRule
from smartoa.contracts.services import eligibility_rules_on


def eligible_condition(rules: Mapping[str, EligibilityRule]) -> Q:
    """The contracts in scope under ``rules`` (``eligibility_rules_on``): active, of a sector with a rule, at or
    above its threshold."""
    in_scope = Q(pk__in=[])
    for sector, rule in rules.items():
        in_scope |= Q(sector=sector, installed_power__gte=rule.min_power_mw)
    return Q(active=True) & in_scope


def eligible_on(day: date) -> Q:
    """The contracts in scope on ``day`` (one query for the day's rules)."""
    return eligible_condition(eligibility_rules_on(day))
