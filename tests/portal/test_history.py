"""The contract's history page (``/contrats/<id>/historique/<YYYY-MM>/``) through Django's client: access (404 for a
contract not held), months (malformed: 404; out of bounds: back to the nearest month, saying so), the day lines
(versions, acknowledgments done, voided, missed; the 25-hour day), the statement summary with and without a
compliance run, a read-only page in a constant number of statements whatever the number of days."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import transaction

from smartoa.accounts.models import AccountSession
from smartoa.billing.services import record_compensation_input, run_compliance
from smartoa.contracts.models import Contract
from smartoa.domain.calendar import iso, steps
from smartoa.metering.models import CurveKind
from smartoa.metering.services import import_curves
from tests.db_probe import probe
from tests.factories import (
    acknowledge,
    add_account,
    at,
    curve_csv,
    load_curves,
    make_consigne,
    make_contract,
    signed_in,
)
from tests.portal.conftest import NOW

OCTOBER, NOVEMBER = date(2026, 10, 1), date(2026, 11, 1)
OCT_DAYS = (date(2026, 10, 24), date(2026, 10, 25), date(2026, 10, 26))  # the 25th lasts 25 hours
NOV_VERSIONS, NOV_VOIDED = date(2026, 11, 2), date(2026, 11, 3)


def build_history(contract: Contract) -> None:
    """October 2026: the 24th acknowledged in the portal, the 25th (25 h) through the API, the 26th missed; a
    stop 01:00–05:00 each day and a curve (a breach on the 25th at 04:00, a missing step on the 26th at 02:00),
    then the month's compliance. November: three versions of the 2nd; the 3rd's acknowledgment voided by a
    modification. The platform's clock must be set (the curve import and the run are stamped with it)."""
    for day in OCT_DAYS:
        make_consigne(contract, day, [(at(day, 1), at(day, 5), 1.0)])
    acknowledge(contract, OCT_DAYS[0], actor="producer@example.fr", moment=at(OCT_DAYS[0] - timedelta(days=1), 9))
    acknowledge(
        contract, OCT_DAYS[1], actor="api:k7Qp2x", channel="api", moment=at(OCT_DAYS[1] - timedelta(days=1), 15, 42)
    )
    load_curves(
        contract.contract_id, OCT_DAYS[0], OCT_DAYS[-1], overrides={at(OCT_DAYS[1], 4): 0.5}, skip=[at(OCT_DAYS[2], 2)]
    )
    with transaction.atomic():
        run_compliance(OCTOBER, actor="ops@example.org")
    before = at(NOV_VERSIONS - timedelta(days=2), 10)
    for n, stop in enumerate([(9, 55, 12, 0), (11, 55, 18, 0), (11, 55, 17, 0)]):
        a, b = at(NOV_VERSIONS, *stop[:2]), at(NOV_VERSIONS, *stop[2:])
        make_consigne(contract, NOV_VERSIONS, [(a, b, 1.0)], moment=before + timedelta(hours=n))
    make_consigne(contract, NOV_VOIDED, [(at(NOV_VOIDED, 12), at(NOV_VOIDED, 14), 1.0)])
    acknowledge(contract, NOV_VOIDED, actor="producer@example.fr", moment=at(NOV_VOIDED - timedelta(days=2), 13))
    make_consigne(
        contract,
        NOV_VOIDED,
        [(at(NOV_VOIDED, 12), at(NOV_VOIDED, 15), 1.0)],
        moment=at(NOV_VOIDED - timedelta(days=1), 9),
    )


@pytest.fixture
def holder(db, client, settings):
    """producer@example.fr holds BOA00001 (with the history above) and is signed in; BOA00009 belongs to someone
    else."""
    settings.SMARTOA_NOW = NOW
    contract = make_contract("BOA00001")
    user = add_account(contract, "producer@example.fr")
    other = make_contract("BOA00009")
    add_account(other, "other@example.fr")
    make_consigne(other, OCT_DAYS[0])
    build_history(contract)
    signed_in(client, user)
    return contract


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.content.decode()


def text(html: str) -> str:
    """The page's text with its spaces collapsed (narrow no-break spaces kept)."""
    import re
    from html import unescape

    return unescape(re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html)).strip())


def test_a_contract_not_held_answers_404(holder, client):
    for path in (
        "/contrats/BOA00009/historique/",
        "/contrats/BOA00009/historique/2026-10/",
        "/contrats/NOPE1234/historique/",
        "/contrats/NOPE1234/historique/2026-10/",
    ):
        assert client.get(path).status_code == 404, path
    client.logout()
    assert client.get("/contrats/BOA00001/historique/").status_code == 302  # to the login page


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "26-10", "octobre", "2026-10-01", "1999-12", "2100-01"])
def test_a_malformed_month_answers_404(holder, client, month):
    assert client.get(f"/contrats/BOA00001/historique/{month}/").status_code == 404
    assert client.get(f"/contrats/BOA00001/historique/?mois={month}").status_code == 404


def test_months_out_of_bounds_lead_to_the_nearest_month(holder, client):
    response = client.get("/contrats/BOA00001/historique/2026-12/")  # tomorrow is 25 November: nothing later
    assert response.status_code == 302 and response["Location"] == "/contrats/BOA00001/historique/2026-11/"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Pas d'historique pour décembre 2026 : voici novembre 2026."
    ]
    response = client.get("/contrats/BOA00001/historique/2026-09/")  # before the first consigne
    assert response.status_code == 302 and response["Location"] == "/contrats/BOA00001/historique/2026-10/"
    response = client.get("/contrats/BOA00001/historique/?mois=2026-10")  # the month picker
    assert response.status_code == 302 and response["Location"] == "/contrats/BOA00001/historique/2026-10/"


def test_a_month_ending_tomorrow_opens_the_next_month(holder, client, settings):
    settings.SMARTOA_NOW = at(date(2026, 11, 30), 10)  # tomorrow is 1 December
    html = page(client, "/contrats/BOA00001/historique/2026-12/")
    assert "/contrats/BOA00001/historique/2026-11/" in html and "mardi 01/12/2026" in text(html)
    assert client.get("/contrats/BOA00001/historique/2027-01/").status_code == 302


def test_the_current_month(holder, client):
    html = page(client, "/contrats/BOA00001/historique/")
    main = html[html.index("<main") : html.index("</main>")]
    assert (
        main
        == (other := page(client, "/contrats/BOA00001/historique/2026-11/"))[
            other.index("<main") : other.index("</main>")
        ]
    )
    words = text(html)
    assert "Historique · novembre 2026" in words
    assert 'rel="prev" href="/contrats/BOA00001/historique/2026-10/"' in html and 'rel="next"' not in html
    assert 'aria-current="page">Historique</a>' in html
    # Every day up to tomorrow (the 25th), then a word about the rest of the month.
    assert "mercredi 25/11/2026 Pas de consigne publiée" in words and "26/11/2026" not in words
    assert "Les jours suivants du mois n'ont pas encore de consigne." in words
    # Days without a consigne make one line per run; today has its own.
    assert "Du 04/11/2026 au 23/11/2026 Pas de consigne publiée (20 jours)" in words
    assert "mardi 24/11/2026 aujourd'hui Pas de consigne publiée aucune —" in words
    assert 'class="today" aria-current="date"' in html
    assert "lundi 02/11/2026 Arrêt 11:55–17:00 3 versions" in words
    assert 'href="/contrats/BOA00001/jours/2026-11-02/"' in html
    assert "dimanche 01/11/2026 Pas de consigne publiée lundi 02/11/2026" in words
    assert "mardi 03/11/2026 Arrêt 12:00–15:00 2 versions" in words
    assert (
        "Non acquiescée Acquiescement annulé par une modification : la version 1 était acquiescée le "
        "01/11/2026 à 13:00, la version 2 ne l'a pas été." in words
    )
    assert "La conformité de ce mois n'a pas encore été calculée" in words and "Conformité</th>" not in html
    assert "Télécharger le relevé" not in words


def test_a_month_with_its_compliance(holder, client):
    html = page(client, "/contrats/BOA00001/historique/2026-10/")
    words = text(html)
    assert 'rel="prev"' not in html and 'rel="next" href="/contrats/BOA00001/historique/2026-11/"' in html
    # The days: the 24th in the portal, the 25th (25 hours) through the API, the 26th missed.
    assert (
        "samedi 24/10/2026 Arrêt 01:00–05:00 1 version · 24/10/2026 Acquiescée — version 1 par producer@example.fr, "
        "le 23/10/2026 à 09:00 · Portail Conformité : Conforme 46 pas contrôlés" in words
    )
    assert (
        "dimanche 25/10/2026 journée de 25 h (changement d'heure) Arrêt 01:00–05:00 1 version · 25/10/2026 "
        "Acquiescée — version 1 par le jeton k7Qp2x…, le 24/10/2026 à 15:42 · API Conformité : 1 pas en dépassement "
        "sur 58 pas contrôlés · voir la courbe" in words
    )
    assert 'href="/contrats/BOA00001/courbe/?day=2026-10-25"' in html
    assert (
        "lundi 26/10/2026 Arrêt 01:00–05:00 1 version · 26/10/2026 Non acquiescée Version 1 ; HLAR passée le "
        "25/10/2026 à 16:30. Conformité : Données manquantes : 1 pas sur 46 pas contrôlés" in words
    )
    assert "Du 01/10/2026 au 23/10/2026 Pas de consigne publiée (23 jours) samedi 24/10/2026" in words
    assert "lundi 26/10/2026" in words and "Du 27/10/2026 au 31/10/2026 Pas de consigne publiée (5 jours)" in words
    # The statement.
    for figures in (
        "Jours avec consigne 3",
        "Jours acquiescés 2",
        "Jours non acquiescés avant l'HLAR (heure limite d'accès au réseau) 1",
        "Jours non acquiescés : 26/10/2026",
        "Épisodes d'arrêt 3",
        "Pas contrôlés 150",
        "Pas en dépassement 1",
        "Pas sans donnée 1",
        "Énergie injectée pendant l'arrêt 0,5 kWh",
        "Énergie excédentaire 0,5 kWh",
        "Compensation Non calculable : aucun prix ni productible estimé enregistré pour ce mois.",
        "Conformité calculée le 24/11/2026 à 10:00.",
    ):
        assert figures in words, figures
    assert "Jours encore à acquiescer" not in words and "à jour au prochain calcul" not in words
    for fmt in ("json", "csv", "xlsx"):
        url = f"/contrats/BOA00001/releve/2026-10.{fmt}"
        assert f'href="{url}"' in html
        assert client.get(url).status_code == 200


def test_the_compensation_and_a_stale_result(holder, client, settings):
    rows = [("BOA00001", iso(moment), 1000.0) for day in OCT_DAYS for moment in steps(day)]
    settings.SMARTOA_NOW = NOW + timedelta(minutes=1)  # after the run
    with transaction.atomic():
        producible = import_curves(
            curve_csv(rows), source_name="estimate.csv", actor="ops@example.org", kind=CurveKind.PRODUCIBLE
        )
        record_compensation_input(holder, OCTOBER, price=Decimal(50), actor="ops@example.org")
    words = text(page(client, "/contrats/BOA00001/historique/2026-10/"))
    assert "le relevé sera à jour au prochain calcul" in words  # inputs recorded after the run
    with transaction.atomic():
        run_compliance(OCTOBER, actor="ops@example.org")
    words = text(page(client, "/contrats/BOA00001/historique/2026-10/"))
    assert "Compensation Non calculable : aucune courbe de productible estimé enregistrée pour ce mois." in words
    assert "à jour au prochain calcul" not in words
    settings.SMARTOA_NOW = NOW + timedelta(minutes=2)
    with transaction.atomic():
        record_compensation_input(holder, OCTOBER, price=Decimal(50), producible=producible, actor="ops@example.org")
        run_compliance(OCTOBER, actor="ops@example.org")
    words = text(page(client, "/contrats/BOA00001/historique/2026-10/"))
    # 46 + 57 + 46 checked steps without breach × 1,000 kWh × 50 €/MWh.
    assert "Compensation 7\u202f450,00 €" in words


def test_a_day_changed_after_the_run_says_so(holder, client, settings):
    """An interim run of November, then a change of a day ahead: that day's result is of an older version."""
    day = date(2026, 11, 27)
    make_consigne(holder, day, [(at(day, 1), at(day, 5), 1.0)], moment=NOW)
    with transaction.atomic():
        run_compliance(NOVEMBER, actor="ops@example.org")
    settings.SMARTOA_NOW = NOW + timedelta(hours=1)
    make_consigne(holder, day, [(at(day, 1), at(day, 6), 1.0)], moment=NOW + timedelta(hours=1))
    html = page(client, "/contrats/BOA00001/historique/2026-11/")
    words = text(html)
    assert 'id="jour-2026-11-27"' in html and 'id="jour-2026-11-28"' not in html  # published ahead: shown
    assert "Arrêt 01:00–06:00 2 versions" in words
    assert (
        "vendredi 27/11/2026 Arrêt 01:00–06:00 2 versions · 27/11/2026 À acquiescer (version 2) avant le "
        "26/11/2026 à 16:30 Conformité : À recalculer Calcul fait avant la fin de cette journée. Calculée sur la "
        "version 1, remplacée depuis." in words
    )
    assert "le relevé sera à jour au prochain calcul" in words
    assert "mardi 24/11/2026 aujourd'hui Pas de consigne publiée aucune — Conformité : —" in words
    # No curve for the 2nd: every checked step is missing (11:55–17:00: 61 steps, 59 checked).
    assert (
        "lundi 02/11/2026 Arrêt 11:55–17:00 3 versions · 02/11/2026 Non acquiescée Version 3 ; HLAR passée le "
        "01/11/2026 à 16:30. Conformité : Données manquantes : 59 pas sur 59 pas contrôlés" in words
    )


def test_the_voided_acknowledgment_before_hlar(holder, client, settings):
    settings.SMARTOA_NOW = at(NOV_VOIDED - timedelta(days=1), 10)  # after the modification, before HLAR
    words = text(page(client, "/contrats/BOA00001/historique/2026-11/"))
    assert (
        "Acquiescement annulé par une modification La version 1 était acquiescée le 01/11/2026 à 13:00 ; "
        "la version 2 est à acquiescer avant le 02/11/2026 à 16:30." in words
    )
    assert "Jours encore à acquiescer 1" in words


def test_english(holder, client):
    from smartoa.accounts.models import User

    User.objects.filter(email="producer@example.fr").update(language="en")
    words = text(page(client, "/contrats/BOA00001/historique/2026-10/"))
    assert "History · October 2026" in words and "Statement · October 2026" in words
    assert "Sunday 25/10/2026 25-hour day (clock change)" in words
    assert "Acknowledged — version 1 by token k7Qp2x…, on 24/10/2026 at 15:42 · API" in words
    assert "1 step in breach out of 58 checked steps" in words and "Missing data: 1 step" in words
    assert "Energy injected during the stop 0.5 kWh" in words
    assert "Not computable: no price and no estimated producible energy recorded for this month." in words
    assert "Portal" in words and "Portail" not in words


def test_read_only_and_a_constant_number_of_statements(holder, client):
    url = "/contrats/BOA00001/historique/2026-10/"
    client.get(url)  # warm the session
    with probe() as few:
        page(client, url)
    for day in (date(2026, 10, 1) + timedelta(days=i) for i in range(31)):
        if day not in OCT_DAYS:
            make_consigne(holder, day, [(at(day, 12), at(day, 14), 1.0)])
            make_consigne(holder, day, [(at(day, 12), at(day, 15), 1.0)])
            acknowledge(holder, day)
    with probe() as many:
        words = text(page(client, url))
    assert "Jours avec consigne 31" in words and "Jours acquiescés 30" in words
    assert many.queries == few.queries
    writes = [s for s in many.statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert [s for s in writes if AccountSession._meta.db_table not in s] == []  # the session's save only


def test_each_compliance_outcome():
    """The day's compliance word from the stored result: every case, including those the data above does not
    reach (a stop too short to check, a day without stop, a version changed after a late run)."""
    from types import SimpleNamespace

    from smartoa.billing.queries import Compensation, DayCompliance, MonthCompliance
    from smartoa.consignes.queries import PublishedDay
    from smartoa.domain.schedule import no_stop_periods
    from smartoa.portal.views.history import outcome_of
    from tests.factories import periods_with

    day = date(2026, 10, 20)

    def published(stops=(), version=1):
        periods = periods_with(day, stops) if stops else no_stop_periods(day)
        return PublishedDay(day, version, version, periods, (), None)

    def result(days=None, versions=None, run_at=NOW):
        return MonthCompliance(
            SimpleNamespace(started_at=run_at), False, 0, 0, 0, 0, 0.0, 0.0, 0.0,
            days or {}, {day: 1} if versions is None else versions, Compensation(False, None, "no_inputs"),
        )  # fmt: skip

    stop = [(at(day, 12), at(day, 12, 10), 1.0)]
    assert outcome_of(published(stop), None, day) == (None, None)
    assert outcome_of(None, result(), day) == (None, None)
    assert outcome_of(published(), result(), day) == ("no_stop", None)
    assert outcome_of(published(stop), result(), day) == ("not_checked", None)
    assert outcome_of(published(stop), result({day: DayCompliance(5, 0, 0)}), day) == ("compliant", None)
    assert outcome_of(published(stop), result({day: DayCompliance(5, 1, 1)}), day) == ("breach", None)
    assert outcome_of(published(stop), result({day: DayCompliance(5, 0, 5)}), day) == ("missing", None)
    assert outcome_of(published(stop), result(versions={}), day) == ("unchecked", None)
    assert outcome_of(published(stop, 2), result(), day) == ("other_version", 1)
    early = at(day, 23, 55)
    assert outcome_of(published(stop, 2), result(run_at=early), day) == ("early", 1)
    assert outcome_of(published(stop), result({day: DayCompliance(5, 0, 0)}, run_at=early), day) == ("early", None)
