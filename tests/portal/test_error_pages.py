"""The error pages, in the portal's frame and the visitor's language: 404 (a contract the account lost says when;
another's contract or an unknown one says nothing more), 403 for a form whose CSRF check failed, 400 for a bad
request, 500 without the database; the API keeps its JSON."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client, RequestFactory, override_settings
from django.urls import include, path

from smartoa.accounts.models import Role
from smartoa.accounts.services import revoke_role
from smartoa.web.views.errors import server_error
from tests.browser import DESKTOP, PHONE, needs_chromium
from tests.portal.conftest import NOW
from tests.portal.test_contract_pages import signed_in  # noqa: F401 - a fixture


@needs_chromium
@pytest.mark.parametrize(("language", "width"), [("fr", PHONE), ("en", DESKTOP)])
def test_not_found_pages_say_what_happened(signed_in, language, width):  # noqa: F811
    v = signed_in(width=width)
    if language == "en":
        v.page.get_by_role("button", name="English").click()
    english = language == "en"
    response = v.go("/contrats/BOA00009/")  # another producer's contract
    assert response.status == 404
    expected = "Contract BOA00009 is not linked to your account" if english else "n'est pas rattaché à votre compte"
    assert expected in v.page.locator("main").inner_text()
    v.check_page(f"error-404-contract-{language}")
    response = v.go("/nulle-part/")
    assert response.status == 404
    assert ("This page does not exist" if english else "Cette page n'existe pas") in v.page.locator("h1").inner_text()
    v.check_page(f"error-404-{language}")
    # The operator removes the account's role: the contract's page says that access was lost, and when.
    with transaction.atomic():
        revoke_role(Role.objects.get(contract__contract_id="BOA00001", user__email="producer@example.fr"), actor="ops")
    response = v.go("/contrats/BOA00001/")
    assert response.status == 404
    text = v.page.locator("main").inner_text()
    if english:
        assert "You no longer have access to contract BOA00001" in text and "removed on 24/11/2026 at 10:00" in text
    else:
        assert "Vous n'avez plus accès au contrat BOA00001" in text and "retiré le 24/11/2026 à 10:00" in text
    v.check_page(f"error-404-lost-{language}")


@pytest.mark.django_db(transaction=True)
def test_a_form_refused_by_its_csrf_check_explains_itself(producer):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/connexion/", {"username": "producer@example.fr", "password": "x"})
    assert response.status_code == 403
    assert (
        "Ce formulaire a expiré" in response.content.decode() and "Rien n'a été enregistré" in response.content.decode()
    )


def test_a_bad_request_is_a_french_page(db):
    response = Client().get("/connexion/", HTTP_HOST="not-served.example")
    assert response.status_code == 400
    assert "Cette demande n'a pas pu être comprise" in response.content.decode()


def broken(request):
    raise RuntimeError("a bug")


urlpatterns = [path("panne/", broken), path("", include("smartoa.urls"))]
handler500 = "smartoa.web.views.errors.server_error"


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__, SMARTOA_NOW=NOW)
def test_a_server_error_is_a_french_page(client, django_assert_num_queries):
    from tests.factories import make_operator

    make_operator(client)
    client.raise_request_exception = False
    response = client.get("/panne/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Une erreur est survenue de notre côté" in body and "smart-oa-contact-technique@edf.fr" in body
    # The page itself needs no database (the failure may be the database's).
    with django_assert_num_queries(0):
        assert server_error(RequestFactory().get("/panne/")).status_code == 500
    # The API answers JSON, whatever the page handlers do.
    assert client.get("/api/v1/nothing").json()["error"] == "not_found"


def test_a_database_failure_is_the_french_503_page_logged_once(db, django_assert_num_queries, caplog):
    from django.db import OperationalError

    from smartoa.core import outage

    with django_assert_num_queries(0):
        for _ in range(3):
            try:
                raise OperationalError("server closed the connection unexpectedly")
            except OperationalError:
                response = server_error(RequestFactory().get("/compte/"))
    outage.database.succeeded()
    assert response.status_code == 503 and int(response["Retry-After"]) > 0
    body = response.content.decode()
    assert "Le service est momentanément indisponible" in body and "Erreur 503" in body
    assert sum("database unavailable" in r.getMessage() for r in caplog.records) == 1
    # Another failure stays a 500.
    try:
        raise ValueError("a bug")
    except ValueError:
        assert server_error(RequestFactory().get("/compte/")).status_code == 500
