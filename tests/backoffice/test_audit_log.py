"""The audit log page: filtered by contract, account, action or family and period (Paris days), paginated,
exported as CSV and Excel from the same columns; and the address the back office stamps on services' events."""

from __future__ import annotations

from datetime import date

import pytest

from smartoa.accounts.models import User
from smartoa.audit.labels import label
from smartoa.audit.models import AuditEvent
from smartoa.audit.queries import EventFilter, action_names, events, families
from smartoa.audit.services import client_address, record
from tests.backoffice.test_control import people_csv, xlsx_strings
from tests.factories import clock, paris


@pytest.fixture
def log(make_contract):
    contract = make_contract("BOA00001")
    user = User.objects.create_user("holder@example.fr", "a long password 123")
    with clock(paris("2026-11-23", "23:30")):
        record(
            "token.issued", actor="holder@example.fr", contract=contract, user=user, ip="80.12.34.56", prefix="soa_x"
        )
    with clock(paris("2026-11-24", "00:30")):  # 23:30 UTC on the 23rd: the 24th in Paris
        record("token.revoked", actor="ops@example.org", contract=contract, count=1)
    with clock(paris("2026-11-24", "12:00")):
        record("hlar.set", actor="cli", day="2026-11-25")
    return contract


def ids(**filters) -> list[str]:
    return [e.action for e in events(EventFilter(**filters))]


def test_filters(log):
    assert ids() == ["hlar.set", "token.revoked", "token.issued"]  # newest first
    assert ids(contract_id="boa00001") == ["token.revoked", "token.issued"]
    assert ids(account="HOLDER@example.fr") == ["token.issued"]  # the account concerned
    assert ids(account="ops@example.org") == ["token.revoked"]  # or the actor
    assert ids(action="token.*") == ["token.revoked", "token.issued"]
    assert ids(action="hlar.set") == ["hlar.set"]
    assert ids(start=date(2026, 11, 24)) == ["hlar.set", "token.revoked"]  # Paris days
    assert ids(end=date(2026, 11, 23)) == ["token.issued"]
    assert action_names() == ["hlar.set", "token.issued", "token.revoked"]
    assert families(action_names()) == ["hlar", "token"]


def test_an_address_given_by_the_edge_stamps_the_services_events(db):
    with client_address("80.12.34.56"):
        record("hlar.set", actor="ops@example.org")
        record("token.issued", actor="ops@example.org", ip="2a01:e0a:1:2::7")  # its own address wins
    record("hlar.set", actor="cli")
    assert list(AuditEvent.objects.order_by("pk").values_list("ip", flat=True)) == [
        "80.12.34.56",
        "2a01:e0a:1:2::7",
        None,
    ]


def test_page_filters_and_pagination(operator, log):
    for n in range(55):
        record("ip.added", actor="ops@example.org", n=n)
    html = operator.get("/backoffice/audit/", {"action": "token.*"}).content.decode()
    table = html[html.index("<tbody>") :]
    assert "token.issued" in table and "token.revoked" in table and "hlar.set" not in table
    assert "soa_x" in table and "80.12.34.56" in table and "24/11/2026 00:30" in table
    first = operator.get("/backoffice/audit/").content.decode()
    assert "58 événements" in first and "Page 1 sur 2" in first
    second = operator.get("/backoffice/audit/", {"page": "2"}).content.decode()
    assert "token.issued" in second and "Page 2 sur 2" in second
    bad = operator.get("/backoffice/audit/", {"start": "2026-11-25", "end": "2026-11-24"})
    assert bad.status_code == 400 and "La fin précède le début." in bad.content.decode()
    unknown = operator.get("/backoffice/audit/", {"action": "nope.*"})
    assert unknown.status_code == 400


def test_exports(operator, log):
    response = operator.get("/backoffice/audit/", {"contract": "BOA00001", "export": "csv"})
    assert response["Content-Disposition"] == 'attachment; filename="journal_audit.csv"'
    rows = people_csv(response.content)
    header = list(rows[0])
    assert header[:3] == ["Date (heure de Paris)", "Action", "Action (code)"] and header[-1] == "Détails"
    assert [(r["Action (code)"], r["Contrat"]) for r in rows] == [
        ("token.revoked", "BOA00001"),
        ("token.issued", "BOA00001"),
    ]
    assert rows[1]["Action"] == label("token.issued") != "token.issued"
    assert rows[1]["Date (heure de Paris)"] == "23/11/2026 23:30" and rows[1]["Détails"] == '{"prefix": "soa_x"}'
    assert rows[1]["Compte concerné"] == "holder@example.fr"
    excel = operator.get("/backoffice/audit/", {"action": "hlar.*", "export": "xlsx"})
    assert {"Détails", "hlar.set", "cli", label("hlar.set")} <= xlsx_strings(excel.content)
    export = AuditEvent.objects.filter(action="export.audit").order_by("pk").first()
    assert export.actor == "ops@example.org" and export.details["filters"]["contract_id"] == "BOA00001"
