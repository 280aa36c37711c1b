from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from smartoa.accounts.models import Role, User
from smartoa.contracts.models import ApiToken, EligibilityRule
from smartoa.contracts.services import eligible_contracts, is_eligible, issue_token


@pytest.mark.django_db
def test_at_most_one_manager_per_contract(make_contract):
    contract = make_contract("BOA00001")
    a, b = User.objects.create_user("a@x.fr"), User.objects.create_user("b@x.fr")
    Role.objects.create(user=a, contract=contract, kind="manager")
    Role.objects.create(user=b, contract=contract, kind="holder")
    with pytest.raises(IntegrityError), transaction.atomic():
        Role.objects.create(user=User.objects.create_user("c@x.fr"), contract=contract, kind="manager")


@pytest.mark.django_db
def test_one_account_may_hold_many_contracts(make_contract):
    user = User.objects.create_user("p@x.fr")
    for cid in ("BOA00001", "BOA00002", "BOA00003"):
        Role.objects.create(user=user, contract=make_contract(cid), kind="holder")
    assert user.roles.count() == 3


@pytest.mark.django_db
def test_at_most_one_active_token_per_contract(make_contract):
    contract = make_contract("BOA00001")
    with transaction.atomic():
        issue_token(contract, actor="t")
        issue_token(contract, actor="t")
    assert ApiToken.objects.filter(contract=contract).count() == 2
    assert ApiToken.objects.filter(contract=contract, revoked_at__isnull=True).count() == 1
    token = ApiToken.objects.get(contract=contract, revoked_at__isnull=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiToken.objects.create(
            contract=contract, token_hash="0" * 64, prefix="x", created_at=token.created_at, expires_at=token.expires_at
        )


@pytest.mark.django_db
def test_eligibility_follows_rules_with_an_effective_date(make_contract):
    small_pv = make_contract("BOA00001", sector="pv", power="5")
    big_pv = make_contract("BOA00002", sector="pv", power="12")
    wind = make_contract("BOA00003", sector="wind_onshore", power="9.999")
    offshore = make_contract("BOA00004", sector="wind_offshore", power="500")
    make_contract("BOA00005", sector="pv", power="50", active=False)
    day = date(2026, 3, 1)
    assert [c.contract_id for c in eligible_contracts(day)] == ["BOA00002", "BOA00004"]
    # A lower threshold decided later applies from its effective date only.
    EligibilityRule.objects.create(sector="pv", min_power_mw=Decimal(1), effective_from=date(2026, 6, 1))
    assert not is_eligible(small_pv, date(2026, 5, 31))
    assert is_eligible(small_pv, date(2026, 6, 1)) and is_eligible(big_pv, date(2026, 6, 1))
    assert not is_eligible(wind, date(2026, 6, 1))
    assert offshore.allows_limitation and not big_pv.allows_limitation
