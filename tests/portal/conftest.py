"""Fixtures of the portal's browser tests: chromium, a frozen platform clock, a file mail backend, and a producer
with a contract whose consigne of tomorrow is published."""

from __future__ import annotations

from datetime import date, timedelta
from email import message_from_bytes
from email.message import Message

import pytest
from django.db import transaction

from smartoa.accounts.models import User
from smartoa.contracts.importing import import_contracts, parse_contracts_csv
from smartoa.contracts.models import Contract
from tests.browser import DESKTOP, Visitor, needs_chromium
from tests.factories import paris, publish_day, stop_periods

NOW = paris("2026-11-24", "10:00")  # the platform's clock in these tests: HLAR of the 25th is at 16:30
TODAY, TOMORROW = date(2026, 11, 24), date(2026, 11, 25)
HEADER = "contract_id,name,sector,installed_power,power_unit,holder_email,manager_email,network_id\n"


@pytest.fixture
def mailbox(settings, tmp_path):
    """The real file mail backend, writing into a folder the test reads."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")

    class Mailbox:
        def messages(self) -> list[Message]:
            """Every e-mail written by the backend, oldest first (a file holds one or more, between rules)."""
            folder = tmp_path / "mail"
            found = []
            for path in sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime) if folder.exists() else []:
                for chunk in path.read_bytes().split(b"-" * 79):
                    if chunk.strip():
                        found.append(message_from_bytes(chunk.strip()))
            return found

        def body(self, message: Message) -> str:
            return message.get_payload(decode=True).decode(message.get_content_charset() or "utf-8")

        def to(self, email: str) -> list[str]:
            return [self.body(m) for m in self.messages() if email in m["To"]]

        def provisional_password(self, email: str) -> str:
            for body in reversed(self.to(email)):
                for line in body.splitlines():
                    if line.startswith(("Mot de passe provisoire", "Provisional password")):
                        return line.split(":", 1)[1].strip()
            raise AssertionError(f"no login e-mail for {email}")

    return Mailbox()


@pytest.fixture
def clock(settings):
    settings.SMARTOA_NOW = NOW
    return settings


def onboard(*lines: str) -> None:
    """The operator's import of contracts and accounts (e-mails the new accounts their login)."""
    with transaction.atomic():
        import_contracts(parse_contracts_csv(HEADER + "".join(lines)), actor="ops@example.org")


@pytest.fixture
def producer(transactional_db, clock, mailbox):
    """producer@example.fr holds BOA00001 (tomorrow: a stop 11:55–18:00) and BOA00002 (no stop); their accounts
    were e-mailed."""
    onboard(
        "BOA00001,Centrale de Beauce,pv,15,MWc,producer@example.fr,,30001234567890\n",
        "BOA00002,Parc des Crêtes,wind_onshore,12,MW,producer@example.fr,,\n",
        "BOA00009,Autre producteur,pv,20,MWc,other@example.fr,,\n",
    )
    for cid in ("BOA00001", "BOA00009"):
        publish_day(Contract.objects.get(contract_id=cid), TOMORROW, moment=NOW - timedelta(hours=1))
    from smartoa.domain.schedule import no_stop_periods

    publish_day(Contract.objects.get(contract_id="BOA00002"), TOMORROW, no_stop_periods(TOMORROW))
    publish_day(Contract.objects.get(contract_id="BOA00001"), TODAY, stop_periods(TODAY, "12:00", "14:00"))
    return User.objects.get(email="producer@example.fr")


@pytest.fixture
def visitor(browser, live_server):
    made = []

    def make(*, width=DESKTOP, language="fr", javascript=True):
        made.append(Visitor(browser, live_server.url, width=width, language=language, javascript=javascript))
        return made[-1]

    yield make
    for v in made:
        v.close()


__all__ = ["needs_chromium"]
