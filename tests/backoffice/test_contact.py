"""When the producers' machines were last seen (the API call through the real WSGI application, its address, the
last stream connection, the last webhook delivered) and the operator's early warning: D+1 published, not
acknowledged, no API call nor stream connection since its current version was published or for 24 h — on the
boundaries of the platform's clock, most urgent first, in a fixed number of queries; the control screen, the
contracts list and a contract's page show them."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from smartoa.api.auth import flush_last_use
from smartoa.backoffice.contact import SILENCE, early_warning, last_seen
from smartoa.consignes.services import publish
from smartoa.contracts.models import ApiToken, Contract
from smartoa.domain.schedule import ConsigneDocument, no_stop_periods
from smartoa.notifications.services import set_webhook
from tests.factories import acknowledge, deliver_outbox, make_token, modify_day, paris, publish_day, stop_periods

DAY = date(2026, 11, 25)  # D+1
NOW = paris("2026-11-24", "14:00")
PUBLISHED = NOW - timedelta(days=2)  # when the fixtures' consignes of DAY were published


@pytest.fixture
def call_api(wsgi, settings):
    """call_api(contract, moment, ip): the contract's machine polls GET /api/v1/effacement at ``moment`` from
    ``ip`` (a new token), and the buffered use is written."""

    def call(contract: Contract, moment, ip: str = "80.12.34.56") -> None:
        token = make_token(contract)
        before, settings.SMARTOA_NOW = settings.SMARTOA_NOW, moment
        response = wsgi("GET", "/api/v1/effacement", headers={"Authorization": f"Bearer {token}"}, remote_addr=ip)
        assert response.status == 200, response.body
        flush_last_use()
        settings.SMARTOA_NOW = before

    return call


@pytest.fixture
def tomorrow_of(make_contract, settings):
    """make(id, stop=True, acknowledged=False) → a contract whose consigne of DAY is published at PUBLISHED (with a
    stop or not), acknowledged or not; the clock at NOW."""
    settings.SMARTOA_NOW = NOW

    def make(contract_id: str, *, stop: bool = True, acknowledged: bool = False, active: bool = True) -> Contract:
        contract = make_contract(contract_id, active=active)
        publish_day(contract, DAY, stop_periods(DAY) if stop else no_stop_periods(DAY), moment=PUBLISHED)
        if acknowledged:
            acknowledge(contract, DAY, moment=NOW)
        return contract

    return make


def ids(warning) -> list[str]:
    return [c.contract_id for c in warning.contracts]


def test_silent_and_unacknowledged_contracts_are_listed(tomorrow_of, make_contract, call_api):
    tomorrow_of("BOANEVER")
    tomorrow_of("BOADONE", acknowledged=True)  # silent, but acknowledged: nothing to chase
    recent = tomorrow_of("BOARECENT")
    call_api(recent, NOW - timedelta(hours=23))
    old = tomorrow_of("BOAOLD")
    call_api(old, NOW - timedelta(hours=30), ip="2a01:e0a:1:2::7")
    tomorrow_of("BOAOFF", active=False)
    make_contract("BOAUNPUB")  # nothing published for D+1: nothing to acknowledge
    warning = early_warning(DAY)
    assert ids(warning) == ["BOANEVER", "BOAOLD"] and warning.count == 2
    assert warning.since == NOW - SILENCE
    silent_old = warning.contracts[1]
    assert (silent_old.seen.api_at, silent_old.seen.api_ip) == (NOW - timedelta(hours=30), "2a01:e0a:1:2::7")
    assert warning.contracts[0].seen.api_at is None and warning.contracts[0].has_stop


def test_the_24_hour_boundary_on_the_platform_clock(tomorrow_of, call_api, settings):
    contract = tomorrow_of("BOAEDGE")
    call_api(contract, NOW - SILENCE)
    assert ids(early_warning(DAY)) == []  # seen exactly 24 h ago: not yet silent
    settings.SMARTOA_NOW = NOW + timedelta(seconds=1)
    assert ids(early_warning(DAY)) == ["BOAEDGE"]
    call_api(contract, NOW + timedelta(minutes=5))
    assert ids(early_warning(DAY)) == []  # it polled again


def test_a_modified_consigne_acknowledged_in_its_old_version_is_unacknowledged(tomorrow_of):
    contract = tomorrow_of("BOAMOD", acknowledged=True)
    assert ids(early_warning(DAY)) == []
    modify_day(contract, DAY, stop_periods(DAY, "12:00", "15:00"), moment=NOW)
    warning = early_warning(DAY)
    assert ids(warning) == ["BOAMOD"] and warning.contracts[0].version == 2


def test_most_urgent_first_and_the_count_of_all(tomorrow_of, call_api):
    tomorrow_of("BOAC", stop=False)
    call_api(tomorrow_of("BOAB"), NOW - timedelta(days=2))
    call_api(tomorrow_of("BOAA"), NOW - timedelta(days=3))
    tomorrow_of("BOAD")
    # A stop to make before a day without one; then the longest silence (never seen first); then by id.
    assert ids(early_warning(DAY)) == ["BOAD", "BOAA", "BOAB", "BOAC"]
    top = early_warning(DAY, shown=2)
    assert ids(top) == ["BOAD", "BOAA"] and top.count == 4


def test_last_seen_gives_the_latest_call_its_address_and_the_last_webhook(
    tomorrow_of, make_contract, call_api, settings
):
    settings.SMARTOA_NOTIFICATION_SENDER = "memory"
    contract = make_contract("BOAHOOK")
    with transaction.atomic():
        set_webhook(contract, "https://hooks.example.fr/smartoa", actor="test")
    publish_day(contract, DAY, moment=NOW - timedelta(hours=2))
    deliver_outbox()  # as the worker would, at NOW
    call_api(contract, NOW - timedelta(hours=5), ip="80.12.34.1")
    call_api(contract, NOW - timedelta(hours=1), ip="80.12.34.2")  # a renewed token, used later
    quiet = make_contract("BOAQUIET")
    seen = last_seen([contract.pk, quiet.pk])
    assert (seen[contract.pk].api_at, seen[contract.pk].api_ip) == (NOW - timedelta(hours=1), "80.12.34.2")
    assert seen[contract.pk].webhook_at == NOW
    assert quiet.pk not in seen


def add_silent_contracts(first: int, count: int) -> None:
    """``count`` contracts published for DAY, never seen, every third acknowledged."""
    ids_ = [f"BOAQ{n:04d}" for n in range(first, first + count)]
    Contract.objects.bulk_create(
        Contract(contract_id=cid, name=f"Parc {cid}", sector="pv", installed_power=Decimal(15), power_unit="MWc")
        for cid in ids_
    )
    with transaction.atomic():
        publish([ConsigneDocument(cid, DAY, stop_periods(DAY)) for cid in ids_], actor="test", at=NOW)
    for cid in ids_[::3]:
        acknowledge(Contract.objects.get(contract_id=cid), DAY, moment=NOW)


def test_queries_do_not_grow_with_the_number_of_contracts(db, settings):
    settings.SMARTOA_NOW = NOW
    add_silent_contracts(0, 6)
    with CaptureQueriesContext(connection) as few:
        assert early_warning(DAY).count == 4
    add_silent_contracts(6, 120)
    with CaptureQueriesContext(connection) as many:
        assert early_warning(DAY).count == 84
    assert len(many) == len(few) == 3


def test_the_control_screen_lists_them_and_links_to_each(operator, tomorrow_of, call_api):
    tomorrow_of("BOANEVER")
    seen = tomorrow_of("BOASEEN", stop=False)
    call_api(seen, NOW - timedelta(hours=2), ip="80.12.34.77")
    page = operator.get("/backoffice/").content.decode()
    warning = page[page.index('id="silent-title"') : page.index('id="board-title"')]
    assert "1 contrat à contacter" in warning
    assert 'href="/backoffice/contracts/BOANEVER/"' in warning and "BOASEEN" not in warning
    board = page[page.index('id="board-title"') :]
    assert "24/11/2026 à 12:00" in board and "<code>80.12.34.77</code>" in board  # BOASEEN's last call


def test_the_contract_page_shows_when_its_machines_were_last_seen(operator, tomorrow_of, call_api):
    contract = tomorrow_of("BOASEEN")
    page = operator.get("/backoffice/contracts/BOASEEN/").content.decode()
    assert "Machines vues" in page and page.count("jamais") >= 2
    call_api(contract, NOW - timedelta(minutes=30), ip="80.12.34.78")
    page = operator.get("/backoffice/contracts/BOASEEN/").content.decode()
    assert "API : 24/11/2026 à 13:30 depuis <code>80.12.34.78</code>" in " ".join(page.split())


def test_after_hlar_the_control_screen_no_longer_warns(operator, tomorrow_of, settings):
    tomorrow_of("BOANEVER")
    assert 'id="silent-title"' in operator.get("/backoffice/").content.decode()
    assert 'id="silent-title"' in operator.get("/backoffice/", {"day": "2026-11-26"}).content.decode()
    settings.SMARTOA_NOW = paris("2026-11-24", "16:31")  # past the HLAR of the 25th (16:30 the eve)
    assert 'id="silent-title"' not in operator.get("/backoffice/").content.decode()
    assert 'id="silent-title"' not in operator.get("/backoffice/", {"day": "2026-11-26"}).content.decode()


def stream_opened(contract: Contract, moment, ip: str = "80.12.34.90") -> None:
    """The contract's machine opens the event stream at ``moment`` from ``ip`` (a new token): what the stream process
    writes on the token (``last_stream_at``/``last_stream_ip``, to the minute)."""
    make_token(contract)
    token = ApiToken.objects.filter(contract=contract).latest("pk")
    ApiToken.objects.filter(pk=token.pk).update(last_stream_at=moment.replace(second=0), last_stream_ip=ip)


def test_no_contact_since_the_current_version_is_flagged_even_within_24_hours(tomorrow_of, call_api):
    contract = tomorrow_of("BOAMOVED")
    call_api(contract, NOW - timedelta(hours=2), ip="80.12.34.5")
    assert ids(early_warning(DAY)) == []  # it read the version of two days ago two hours ago
    modify_day(contract, DAY, stop_periods(DAY, "12:00", "15:00"), moment=NOW - timedelta(hours=1))
    warning = early_warning(DAY)
    assert ids(warning) == ["BOAMOVED"]
    (silent,) = warning.contracts
    assert silent.missed_version and silent.version == 2 and silent.published_at == NOW - timedelta(hours=1)
    assert (silent.seen.contact_at, silent.seen.contact_ip) == (NOW - timedelta(hours=2), "80.12.34.5")
    call_api(contract, NOW - timedelta(minutes=30))
    assert ids(early_warning(DAY)) == []  # it called after the change: its machine could have read it


def test_a_stream_connection_is_a_contact(tomorrow_of, settings):
    contract = tomorrow_of("BOASTREAM")
    stream_opened(contract, PUBLISHED - timedelta(minutes=5))
    warning = early_warning(DAY)
    assert ids(warning) == ["BOASTREAM"] and warning.contracts[0].missed_version
    assert warning.contracts[0].seen.stream_ip == "80.12.34.90" and warning.contracts[0].seen.api_at is None
    stream_opened(contract, NOW - timedelta(hours=3), ip="2a01:e0a:1:2::9")
    assert ids(early_warning(DAY)) == []
    settings.SMARTOA_NOW = NOW + timedelta(hours=21, minutes=1)  # 24 h and a minute without contact
    (silent,) = early_warning(DAY).contracts
    assert not silent.missed_version
    assert (silent.seen.contact_at, silent.seen.contact_ip) == (NOW - timedelta(hours=3), "2a01:e0a:1:2::9")


def test_the_last_contact_is_the_latest_of_the_call_and_the_stream(tomorrow_of, call_api):
    contract = tomorrow_of("BOABOTH")
    call_api(contract, NOW - timedelta(hours=1), ip="80.12.34.1")
    stream_opened(contract, NOW - timedelta(hours=4), ip="80.12.34.2")
    seen = last_seen([contract.pk])[contract.pk]
    assert (seen.api_at, seen.api_ip) == (NOW - timedelta(hours=1), "80.12.34.1")
    assert (seen.stream_at, seen.stream_ip) == (NOW - timedelta(hours=4), "80.12.34.2")
    assert (seen.contact_at, seen.contact_ip) == (NOW - timedelta(hours=1), "80.12.34.1")
    streamer = tomorrow_of("BOAONLYSTREAM")
    stream_opened(streamer, NOW - timedelta(hours=4), ip="80.12.34.3")
    seen = last_seen([streamer.pk])[streamer.pk]
    assert seen.api_at is None and (seen.contact_at, seen.contact_ip) == (NOW - timedelta(hours=4), "80.12.34.3")


def test_queries_do_not_grow_with_streams_either(db, settings):
    settings.SMARTOA_NOW = NOW
    add_silent_contracts(0, 6)
    with CaptureQueriesContext(connection) as few:
        early_warning(DAY)
    add_silent_contracts(6, 60)
    for contract in Contract.objects.filter(contract_id__in=["BOAQ0007", "BOAQ0010", "BOAQ0020"]):
        stream_opened(contract, NOW)
    with CaptureQueriesContext(connection) as many:
        warning = early_warning(DAY)
    assert len(many) == len(few) == 3
    assert warning.count == 44 - 3 and "BOAQ0010" not in ids(warning)


def test_the_control_screen_says_why_and_the_last_contact(operator, tomorrow_of, call_api):
    contract = tomorrow_of("BOAMOVED")
    call_api(contract, NOW - timedelta(hours=2), ip="80.12.34.5")
    modify_day(contract, DAY, stop_periods(DAY, "12:00", "15:00"), moment=NOW - timedelta(hours=1))
    streamer = tomorrow_of("BOASTREAM", stop=False)
    stream_opened(streamer, NOW - timedelta(minutes=10), ip="80.12.34.91")
    page = " ".join(operator.get("/backoffice/").content.decode().split())
    warning = page[page.index('id="silent-title"') : page.index('id="board-title"')]
    assert "1 contrat à contacter" in warning and "BOASTREAM" not in warning
    assert "Aucun contact depuis la version 2, publiée le 24/11/2026 à 13:00." in warning
    assert "Dernier contact : 24/11/2026 à 12:00 depuis <code>80.12.34.5</code>." in warning
    board = page[page.index('id="board-title"') :]
    assert "Flux d'événements : 24/11/2026 à 13:50 depuis <code>80.12.34.91</code>" in board


def test_the_contracts_list_and_page_show_the_machines(operator, tomorrow_of, call_api):
    contract = tomorrow_of("BOASEEN")
    call_api(contract, NOW - timedelta(minutes=30), ip="80.12.34.78")
    stream_opened(contract, NOW - timedelta(minutes=20), ip="80.12.34.79")
    tomorrow_of("BOANEVER")
    listing = " ".join(operator.get("/backoffice/contracts/").content.decode().split())
    assert "Machines vues" in listing
    assert "API : 24/11/2026 à 13:30 depuis <code>80.12.34.78</code>" in listing
    assert "Flux d'événements : 24/11/2026 à 13:40 depuis <code>80.12.34.79</code>" in listing
    page = " ".join(operator.get("/backoffice/contracts/BOASEEN/").content.decode().split())
    assert "Flux d'événements : 24/11/2026 à 13:40 depuis <code>80.12.34.79</code>" in page


def test_the_contracts_list_reads_in_a_constant_number_of_queries(operator, settings):
    settings.SMARTOA_NOW = NOW
    add_silent_contracts(0, 5)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert operator.get("/backoffice/contracts/").status_code == 200
        return len(captured)

    few = queries()
    add_silent_contracts(5, 40)
    for contract in Contract.objects.all()[:10]:
        stream_opened(contract, NOW - timedelta(minutes=3))
    assert queries() == few
