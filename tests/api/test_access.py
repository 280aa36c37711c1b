"""The API access-control matrix: token states, IP allow-list in production, trusted proxies."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction

from smartoa.api.auth import flush_last_use
from smartoa.contracts.models import ApiToken
from smartoa.contracts.services import add_ips, remove_ips
from smartoa.domain.calendar import parse_instant

PATH = "/api/v1/effacement"
DAY_DOC = """{"id": "%s", "application_date": "2025-09-22", "data": [
 {"start_date": "2025-09-22T00:00:00+02:00", "end_date": "2025-09-23T00:00:00+02:00", "value": 0.0}]}"""


@pytest.fixture
def two_contracts(make_contract, issue_token, settings, tmp_path):
    settings.SMARTOA_NOW = parse_instant("2025-09-21T12:55:05+02:00")
    a, b = make_contract("BOAAAAAA"), make_contract("BOABBBBB")
    for contract in (a, b):
        path = tmp_path / f"{contract.contract_id}.json"
        path.write_text(DAY_DOC % contract.contract_id)
        call_command("consignes", "publish", str(path))
    settings.SMARTOA_NOW = None  # tokens are issued on the real clock, so that production-mode tests see them valid
    return (a, issue_token(a)), (b, issue_token(b))


@pytest.fixture
def production(settings):
    settings.PRODUCTION = True
    settings.SMARTOA_ENV = "production"
    return settings


def get(wsgi, token=None, *, auth=None, ip="80.12.34.7", forwarded=None):
    headers = {}
    if auth is not None:
        headers["Authorization"] = auth
    elif token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if forwarded:
        headers["X-Forwarded-For"] = forwarded
    return wsgi("GET", PATH, headers=headers, remote_addr=ip)


def assert_refused(response, status, code):
    assert response.status == status, response.body
    assert response.json()["error"] == code
    assert response.json()["message"]
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_token_opens_its_own_contract_only(two_contracts, wsgi):
    (_a, token_a), (_b, token_b) = two_contracts
    assert get(wsgi, token_a).json()["id"] == "BOAAAAAA"
    assert get(wsgi, token_b).json()["id"] == "BOABBBBB"


def test_no_token(two_contracts, wsgi):
    assert_refused(get(wsgi), 401, "missing_token")


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Token soa_abc", "bearer"])
def test_malformed_header(two_contracts, wsgi, header):
    assert_refused(get(wsgi, auth=header), 401, "malformed_token")


@pytest.mark.parametrize("token", ["soa_" + "x" * 43, "not-a-token", "soa_" + "é" * 30, "soa_" + "a" * 500])
def test_unknown_token(two_contracts, wsgi, token):
    assert_refused(get(wsgi, token), 401, "unknown_token")


def active_token(contract) -> ApiToken:
    return ApiToken.objects.get(contract=contract, revoked_at__isnull=True)


def test_token_lifetime_is_six_months(two_contracts):
    (a, _), _ = two_contracts
    row = active_token(a)
    assert row.expires_at - row.created_at == timedelta(days=183)


def test_expired_token(two_contracts, wsgi, settings):
    (a, token), _ = two_contracts
    settings.SMARTOA_NOW = active_token(a).expires_at
    assert_refused(get(wsgi, token), 401, "expired_token")


def test_token_valid_just_before_expiry(two_contracts, wsgi, settings):
    (a, token), _ = two_contracts
    settings.SMARTOA_NOW = active_token(a).expires_at - timedelta(seconds=1)
    assert get(wsgi, token).status == 200


def test_revoked_after_a_new_one_is_issued(two_contracts, wsgi, issue_token):
    (a, old), _ = two_contracts
    new = issue_token(a)
    assert_refused(get(wsgi, old), 401, "revoked_token")
    assert get(wsgi, new).status == 200
    assert ApiToken.objects.filter(contract=a, revoked_at__isnull=True).count() == 1


def test_inactive_contract_is_refused(two_contracts, wsgi):
    (a, token), _ = two_contracts
    a.active = False
    a.save()
    assert_refused(get(wsgi, token), 401, "revoked_token")


def test_ip_not_required_in_test_environment(two_contracts, wsgi):
    (_, token), _ = two_contracts
    assert get(wsgi, token, ip="92.184.0.1").status == 200


def test_wrong_ip_in_production(two_contracts, wsgi, production):
    (a, token), _ = two_contracts
    with transaction.atomic():
        add_ips(a, ["80.12.34.7"], actor="test")
    assert_refused(get(wsgi, token, ip="80.12.34.8"), 403, "ip_not_allowed")


def test_right_ip_in_production(two_contracts, wsgi, production):
    (a, token), _ = two_contracts
    with transaction.atomic():
        add_ips(a, ["80.12.34.7", "2a01:cb00::1"], actor="test")
    assert get(wsgi, token, ip="80.12.34.7").status == 200
    assert get(wsgi, token, ip="2a01:cb00:0000::0001").status == 200  # same address, other spelling


def test_another_contracts_ip_does_not_open_this_one(two_contracts, wsgi, production):
    (_a, token_a), (b, _) = two_contracts
    with transaction.atomic():
        add_ips(b, ["80.12.34.7"], actor="test")
    assert_refused(get(wsgi, token_a, ip="80.12.34.7"), 403, "ip_not_allowed")


def test_removed_ip_is_refused_on_the_next_request(two_contracts, wsgi, production):
    (a, token), _ = two_contracts
    with transaction.atomic():
        add_ips(a, ["80.12.34.7"], actor="test")
    assert get(wsgi, token).status == 200
    with transaction.atomic():
        remove_ips(a, ["80.12.34.7"], actor="test")
    assert_refused(get(wsgi, token), 403, "ip_not_allowed")


def test_forwarded_for_from_a_trusted_proxy(two_contracts, wsgi, production):
    (a, token), _ = two_contracts
    production.SMARTOA_TRUSTED_PROXIES = frozenset({"10.0.0.5"})
    with transaction.atomic():
        add_ips(a, ["80.12.34.7"], actor="test")
    # The client sent a forged first hop; the proxy appended the real address: the right-most untrusted one wins.
    ok = get(wsgi, token, ip="10.0.0.5", forwarded="92.184.0.66, 80.12.34.7")
    assert ok.status == 200
    assert_refused(get(wsgi, token, ip="10.0.0.5", forwarded="80.12.34.7, 92.184.0.66"), 403, "ip_not_allowed")


def test_forged_forwarded_for_from_an_untrusted_client(two_contracts, wsgi, production):
    (a, token), _ = two_contracts
    production.SMARTOA_TRUSTED_PROXIES = frozenset({"10.0.0.5"})
    with transaction.atomic():
        add_ips(a, ["80.12.34.7"], actor="test")
    assert_refused(get(wsgi, token, ip="92.184.0.66", forwarded="80.12.34.7"), 403, "ip_not_allowed")


def test_last_use_and_its_address_are_written_at_most_once_a_minute(two_contracts, wsgi, settings):
    """The requests themselves flush the buffer (every 30 s): the first call is written, a second within the
    minute is not, one a minute later is — to the minute, with the caller's address behind the trusted proxy."""
    (a, token), _ = two_contracts
    settings.SMARTOA_TRUSTED_PROXIES = frozenset({"10.0.0.5"})
    row = ApiToken.objects.get(contract=a, revoked_at__isnull=True)

    def call(moment, ip="80.12.34.7", forwarded=None):
        settings.SMARTOA_NOW = moment
        assert get(wsgi, token, ip=ip, forwarded=forwarded).status == 200
        return ApiToken.objects.values_list("last_used_at", "last_used_ip").get(pk=row.pk)

    first = parse_instant("2026-01-05T10:00:00+01:00")
    assert call(first, ip="10.0.0.5", forwarded="192.0.2.1, 92.184.0.66") == (None, None)  # buffered
    assert call(first + timedelta(seconds=31), ip="80.12.34.9") == (first, "92.184.0.66")  # the flush wrote it
    assert call(first + timedelta(seconds=59), ip="80.12.34.9") == (first, "92.184.0.66")
    minute_later = first + timedelta(minutes=1)  # kept to the minute
    assert call(first + timedelta(seconds=62), ip="80.12.34.9") == (minute_later, "80.12.34.9")  # 31 s: flushed
    call(first + timedelta(seconds=100), ip="80.12.34.10")
    flush_last_use()
    assert ApiToken.objects.values_list("last_used_at", "last_used_ip").get(pk=row.pk) == (minute_later, "80.12.34.9")


def test_a_refused_call_is_not_a_use(two_contracts, wsgi, settings):
    (a, token), _ = two_contracts
    settings.SMARTOA_NOW = parse_instant("2026-01-05T10:00:00+01:00")
    with transaction.atomic():
        ApiToken.objects.filter(contract=a).update(revoked_at=settings.SMARTOA_NOW)
    assert_refused(get(wsgi, token), 401, "revoked_token")
    flush_last_use()
    assert ApiToken.objects.values_list("last_used_at", "last_used_ip").get(contract=a) == (None, None)


def test_tokens_are_stored_hashed(two_contracts):
    (a, token), _ = two_contracts
    row = ApiToken.objects.get(contract=a, revoked_at__isnull=True)
    assert token not in row.token_hash and len(row.token_hash) == 64
    assert token.startswith(row.prefix)


def test_django_route_applies_the_same_rules(two_contracts, client, production):
    (_a, token), _ = two_contracts
    response = client.get(PATH, HTTP_AUTHORIZATION=f"Bearer {token}", REMOTE_ADDR="80.12.34.9")
    assert response.status_code == 403 and response.json()["error"] == "ip_not_allowed"
    response = client.get(PATH)
    assert response.status_code == 401 and response.json()["error"] == "missing_token"
