"""Operator roles in Debian's chromium, at phone (390 px) and desktop (1280 px) width: a Lecture operator sees a
form's page without its submit button (a note names the role needed) and gets the 403 page naming the role on an
Administrateur's page; an Administrateur changes an operator's role on its page. Screenshots in
``var/test-output/screenshots/bo-roles-*``; axe-core finds no serious or critical violation."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from smartoa.accounts.models import User
from smartoa.accounts.roles import OPERATEUR, role_of
from smartoa.audit.models import AuditEvent
from tests.browser import DESKTOP, PHONE, Visitor, needs_chromium
from tests.factories import signed_in


@pytest.fixture
def visitor_as(browser, live_server, transactional_db):
    """visitor_as(email, role, width) → a Visitor signed in as a new operator in ``role`` (and the account)."""
    made: list[Visitor] = []

    def make(email: str, role: str, width: int) -> tuple[Visitor, User]:
        user = User.objects.create_user(email, is_staff=True, full_name=email.split("@")[0].title())
        user.groups.add(Group.objects.get(name=role))
        client = Client()
        signed_in(client, user)
        visitor = Visitor(browser, live_server.url, width=width)
        session = client.cookies["sessionid"].value
        visitor.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
        made.append(visitor)
        return visitor, user

    yield make
    for visitor in made:
        visitor.close()


@needs_chromium
@pytest.mark.parametrize("width", [PHONE, DESKTOP], ids=["390", "1280"])
def test_a_lecture_operator_sees_forms_read_only_and_the_role_needed(visitor_as, width):
    visitor, user = visitor_as("lecteur@example.org", "Lecture", width)
    response = visitor.go("/backoffice/hlar/")
    assert response.status == 200
    page = visitor.page
    note = page.locator(".read-only")
    assert note.inner_text() == "Consultation seulement : cette action demande le rôle Opérateur."
    assert page.get_by_role("button", name="Fixer l'HLAR").count() == 0
    assert "lecteur@example.org · Lecture" in page.locator(".who-am-i").inner_text()
    visitor.check_page("bo-roles-read-only")

    response = visitor.go(f"/backoffice/accounts/{user.pk}/role/")
    assert response.status == 403
    assert page.get_by_role("heading", level=1).inner_text() == "Rôle insuffisant"
    text = page.locator("main").inner_text()
    assert "Cette action demande le rôle Administrateur." in text and "Votre compte a le rôle Lecture." in text
    visitor.check_page("bo-roles-role-needed")


@needs_chromium
@pytest.mark.parametrize("width", [PHONE, DESKTOP], ids=["390", "1280"])
def test_an_administrateur_changes_an_operator_s_role(visitor_as, width):
    visitor, _admin = visitor_as("chef@example.org", "Administrateur", width)
    other = User.objects.create_user("stagiaire@example.org", is_staff=True)
    other.groups.add(Group.objects.get(name="Lecture"))
    visitor.go("/backoffice/accounts/")
    page = visitor.page
    page.get_by_role("link", name="changer le rôle stagiaire@example.org").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Rôle d'un opérateur"
    assert page.get_by_role("radio", name="Lecture").is_checked()
    visitor.check_page("bo-roles-role-page")

    page.get_by_role("radio", name="Opérateur").check()
    page.get_by_label("Motif (facultatif, gardé au journal)").fill("fin de la période d'essai")
    page.get_by_role("button", name="Enregistrer le rôle").click()
    page.wait_for_url("**/backoffice/accounts/")
    assert "stagiaire@example.org a maintenant le rôle Opérateur." in page.locator("main").inner_text()
    visitor.check_page("bo-roles-role-changed")
    assert role_of(User.objects.get(pk=other.pk)) == OPERATEUR
    event = AuditEvent.objects.get(action="account.role_changed")
    assert (event.actor, event.user_id, event.ip) == ("chef@example.org", other.pk, "127.0.0.1")
    assert event.details == {"role": "operateur", "previous": "lecture", "reason": "fin de la période d'essai"}
