"""Passwords: a provisional password (random, e-mailed) is hashed with one salted round so that imports create
thousands of accounts quickly; it works once to log in, is upgraded to Argon2 then, and every password a person
chooses is hashed with Argon2."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.db import transaction
from django.test import RequestFactory

from smartoa.accounts.models import User
from smartoa.accounts.security import reset_second_factor, set_password
from smartoa.accounts.services import create_account
from tests.factories import outbox

pytestmark = pytest.mark.django_db


def provisional(email: str) -> str:
    return outbox(recipient=email)[-1].context["password"]


def test_a_new_account_has_a_provisional_password_hashed_once_then_argon2_at_login():
    with transaction.atomic():
        create_account("new@example.fr", actor="ops@example.org")
    user = User.objects.get(email="new@example.fr")
    assert user.password.startswith("provisional_pbkdf2_sha256$1$") and user.must_change_password
    password = provisional("new@example.fr")
    assert len(password) == 16 and user.check_password(password) and not user.check_password(password + "x")
    assert authenticate(RequestFactory().post("/connexion/"), username="new@example.fr", password=password)
    user.refresh_from_db()
    assert user.password.startswith("argon2$")  # upgraded at the first login, before the forced change


def test_a_chosen_password_is_argon2():
    with transaction.atomic():
        user = create_account("new@example.fr", actor="ops@example.org")
        set_password(user, "Correct-Horse-Battery-42", ip=None)
    user.refresh_from_db()
    assert user.password.startswith("argon2$") and not user.must_change_password


def test_the_reset_of_a_lost_authenticator_gives_a_new_provisional_password():
    with transaction.atomic():
        user = create_account("new@example.fr", actor="ops@example.org")
        set_password(user, "Correct-Horse-Battery-42", ip=None)
        reset_second_factor(user, actor="ops@example.org")
    user.refresh_from_db()
    assert user.password.startswith("provisional_pbkdf2_sha256$") and user.must_change_password
    assert user.check_password(provisional("new@example.fr"))
    assert not user.check_password("Correct-Horse-Battery-42")
