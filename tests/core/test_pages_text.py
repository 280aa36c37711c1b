"""Every page of the portal and of the back office, read as a person reads it (its visible text), in French and
in English: no ISO date or date-time (people read ``25/11/2026`` and ``24/11/2026 à 16:30``), and a page that
speaks of the HLAR spells it out once ("HLAR (heure limite d'accès au réseau)").

The pages are found from the URL configuration, so a new page is checked without being listed here; those that
cannot be shown by a GET with the data below are listed in SKIPPED with the reason.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from smartoa.billing.services import run_compliance
from smartoa.contracts.models import Contract
from smartoa.contracts.services import add_ips
from smartoa.notifications.services import set_webhook
from tests.factories import (
    acknowledge,
    add_account,
    clock,
    load_curves,
    make_contract,
    make_operator,
    make_token,
    modify_day,
    paris,
    publish_day,
    signed_in,
    stop_periods,
)

NOW = paris("2026-11-24", "10:00")
TODAY, TOMORROW = date(2026, 11, 24), date(2026, 11, 25)
ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:[+-]\d{2}:\d{2}|Z)?)?\b")
VALUES = {"contract_id": "BOA00001", "day": "2026-11-25", "month": "2026-11", "address": "80.12.34.56"}
# Not an HTML page a GET shows: downloads, form targets answering only POST, links holding a one-time secret.
SKIPPED = {
    "portal:document": "a download (JSON, CSV or Excel)",
    "portal:statement": "a download",
    "backoffice:contract-statement": "a download",
    "web:reset-confirm": "a one-time link from an e-mail",
    "portal:confirm-address": "a one-time link from an e-mail",
    "web:backup-codes": "shown once after they are issued (redirects otherwise)",
    "portal:day-block": "a fragment of the contract page (checked with it)",
}
EXPLAINED = {"fr": "heure limite d'accès au réseau", "en": "grid access deadline"}


class VisibleText(HTMLParser):
    """The text a person sees: no scripts, styles or attributes; ``<code>`` and ``<pre>`` (machine text shown as
    such: an API example, a document) left out too."""

    HIDDEN = {"script", "style", "code", "pre", "template"}

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)

    @classmethod
    def of(cls, html: str) -> str:
        parser = cls()
        parser.feed(html)
        return " ".join(" ".join(parser.parts).split())


def named_urls(namespace: str) -> list[tuple[str, str]]:
    """(name, path) of every page of ``namespace`` whose parameters VALUES can fill."""
    found = []
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and entry.namespace == namespace:
            for pattern in entry.url_patterns:
                if not isinstance(pattern, URLPattern) or not pattern.name:
                    continue
                name = f"{namespace}:{pattern.name}"
                if name in SKIPPED:
                    continue
                route = str(entry.pattern) + str(pattern.pattern)
                params = re.findall(r"<(?:\w+:)?(\w+)>", route)
                if "pk" in params:
                    params.remove("pk")
                    route = re.sub(r"<int:pk>", "{pk}", route)
                path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: VALUES.get(m.group(1), "?"), route)
                found.append((name, path))
    return found


@pytest.fixture
def platform(settings, client):
    """A producer's contract with yesterday's day acknowledged, today's published, tomorrow's modified after its
    acknowledgment (voided), a token, an address, a webhook, a month's compliance run; the operator signed in."""
    settings.SMARTOA_NOW = NOW
    contract = make_contract("BOA00001", name="Centrale de Beauce")
    make_contract("BOA00002", name="Autre")
    producer = add_account(contract, "producer@example.fr")
    for day in (TODAY - timedelta(days=1), TODAY, TOMORROW):
        publish_day(contract, day, stop_periods(day), moment=NOW - timedelta(days=2))
    acknowledge(contract, TODAY - timedelta(days=1), user=producer, actor=producer.email)
    acknowledge(contract, TOMORROW, user=producer, actor=producer.email, moment=NOW)
    modify_day(contract, TOMORROW, stop_periods(TOMORROW, "12:55", "18:00"), moment=NOW)
    make_token(contract)
    with transaction.atomic():
        add_ips(contract, ["80.12.34.56"], actor="test")
        set_webhook(contract, "https://hooks.example.fr/smartoa", actor="test")
    load_curves("BOA00001", TODAY - timedelta(days=1), TODAY)
    with transaction.atomic(), clock(NOW + timedelta(days=10)):
        run_compliance(date(2026, 11, 1), actor="test")
    operator = Client()
    make_operator(operator)
    signed_in(client, producer)
    return {"portal": client, "backoffice": operator, "contract": Contract.objects.get(contract_id="BOA00001")}


def pages(platform, namespace: str, language: str):
    """(name, path, visible text) of every page of ``namespace`` that answers 200 in HTML."""
    client = platform[namespace]
    client.cookies["django_language"] = language
    user = client.session.get("_auth_user_id")
    from smartoa.accounts.models import User

    User.objects.filter(pk=user).update(language=language)
    shown = []
    for name, path in named_urls(namespace):
        response = client.get(path.replace("{pk}", str(user)))
        assert response.status_code < 500, f"{name} ({path}): {response.status_code}"
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        shown.append((name, path, VisibleText.of(response.content.decode())))
    return shown


@pytest.mark.django_db
@pytest.mark.parametrize("namespace", ["portal", "backoffice"])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_no_page_shows_an_iso_date_and_the_hlar_is_spelled_out_once(platform, namespace, language):
    found = pages(platform, namespace, language)
    assert len(found) >= (12 if namespace == "portal" else 8), [name for name, *_ in found]  # the walk finds them
    problems = []
    for name, path, text in found:
        if iso := ISO.findall(text):
            problems.append(f"{name} ({path}): ISO {iso[:3]}")
        if "HLAR" in text and text.count(EXPLAINED[language]) != 1:
            problems.append(f"{name} ({path}): HLAR explained {text.count(EXPLAINED[language])} times")
    assert not problems, "\n".join(problems)


def test_the_visible_text_leaves_out_what_a_person_does_not_read():
    html = '<p title="2026-11-25">Le <b>25/11/2026</b></p><script>x="2026-11-25T16:30"</script><code>2026-11-25</code>'
    assert VisibleText.of(html) == "Le 25/11/2026"
    assert ISO.findall("le 2026-11-25T16:30:00+01:00 et le 2026-11-25") == ["2026-11-25T16:30:00+01:00", "2026-11-25"]
