"""Cheap polling of GET /api/v1/effacement: ETag and Last-Modified of the version served, 304 Not Modified without a
body when the client has it, only after the token and address checks; the hot path and the Django view agree."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.db import transaction
from django.utils.http import http_date

from smartoa.api.conditional import Validators, none_match, not_modified
from smartoa.consignes.queries import current_version
from smartoa.contracts.services import add_ips, remove_ips, revoke_tokens
from smartoa.domain.calendar import parse_instant
from tests.factories import modify_day, paris, publish_day, stop_periods

PATH = "/api/v1/effacement"
DAY = date(2025, 9, 22)
PUBLISHED = parse_instant("2025-09-21T12:55:05+02:00")
SEED = (Path(__file__).parent.parent / "data" / "seed_effacement.json").read_text()


@pytest.fixture
def published(make_contract, issue_token, settings):
    """A contract with version 1 of DAY published at PUBLISHED (the seed's document) and a token."""
    settings.SMARTOA_NOW = PUBLISHED
    contract = make_contract("BOAXXXXX")
    publish_day(contract, DAY)
    return contract, issue_token(contract)


def get(wsgi, token, **headers):
    return wsgi("GET", PATH, headers={"Authorization": f"Bearer {token}", **headers}, remote_addr="80.12.34.7")


def etag_of(contract, day=DAY) -> str:
    return f'"{current_version(contract.pk, day).pk}"'


def assert_not_modified(response, etag):
    assert response.status == 304, response.body
    assert response.body == b""
    assert response.headers["etag"] == etag
    assert response.headers["last-modified"]
    assert response.headers["cache-control"] == "no-store"
    assert "content-type" not in response.headers and "content-length" not in response.headers


def test_200_carries_the_validators_and_the_seed_bytes(published, wsgi):
    contract, token = published
    response = get(wsgi, token)
    assert response.status == 200
    assert response.body.decode().strip() == SEED.strip()  # unchanged, byte for byte
    assert response.headers["etag"] == etag_of(contract)
    assert response.headers["last-modified"] == "Sun, 21 Sep 2025 10:55:05 GMT" == http_date(PUBLISHED.timestamp())
    assert response.headers["content-length"] == str(len(response.body))


def test_if_none_match_gets_304_without_a_body(published, wsgi):
    _, token = published
    etag = get(wsgi, token).headers["etag"]
    first = get(wsgi, token, **{"If-None-Match": etag})
    assert_not_modified(first, etag)
    assert first.headers["last-modified"] == "Sun, 21 Sep 2025 10:55:05 GMT"
    assert first.headers["x-request-id"]
    for header in (f'"nope", {etag}', f"W/{etag}", "*", f' "x" ,W/{etag} '):
        assert_not_modified(get(wsgi, token, **{"If-None-Match": header}), etag)
    for header in ('"nope"', etag.strip('"'), f'"{etag}"', "", "W/", f"{etag[:-1]}"):
        assert get(wsgi, token, **{"If-None-Match": header}).status == 200, header


def test_a_new_version_or_a_new_day_is_a_new_etag(published, wsgi, settings):
    contract, token = published
    old = get(wsgi, token).headers["etag"]
    settings.SMARTOA_NOW = paris("2025-09-21", "14:00")
    modify_day(contract, DAY, stop_periods(DAY, "12:00", "17:00"))
    changed = get(wsgi, token, **{"If-None-Match": old})
    assert changed.status == 200 and changed.headers["etag"] == etag_of(contract) != old
    assert changed.headers["last-modified"] == "Sun, 21 Sep 2025 12:00:00 GMT"
    assert json.loads(changed.body)["data"][1]["start_date"] == "2025-09-22T12:00:00+02:00"
    assert_not_modified(get(wsgi, token, **{"If-None-Match": changed.headers["etag"]}), changed.headers["etag"])
    publish_day(contract, DAY + timedelta(days=1))  # a later day becomes the latest document
    later = get(wsgi, token, **{"If-None-Match": changed.headers["etag"]})
    assert later.status == 200 and json.loads(later.body)["application_date"] == "2025-09-23"
    assert later.headers["etag"] == etag_of(contract, DAY + timedelta(days=1))


def test_if_modified_since(published, wsgi, settings):
    contract, token = published
    settings.SMARTOA_NOW = paris("2025-09-21", "15:00")
    etag = etag_of(contract)
    assert_not_modified(get(wsgi, token, **{"If-Modified-Since": "Sun, 21 Sep 2025 10:55:05 GMT"}), etag)
    assert_not_modified(get(wsgi, token, **{"If-Modified-Since": "Sunday, 21-Sep-25 11:00:00 GMT"}), etag)
    for since in ("Sun, 21 Sep 2025 10:55:04 GMT", "yesterday", "Sun, 21 Sep 2025 14:00:00 GMT"):  # the last: future
        assert get(wsgi, token, **{"If-Modified-Since": since}).status == 200, since
    # If-None-Match decides alone when both are sent (RFC 9110 §13.2.2).
    both = {"If-None-Match": '"other"', "If-Modified-Since": "Sun, 21 Sep 2025 11:00:00 GMT"}
    assert get(wsgi, token, **both).status == 200


def test_refusals_come_before_304(published, wsgi, issue_token, settings):
    contract, token = published
    etag = etag_of(contract)
    match = {"If-None-Match": etag}
    unknown = get(wsgi, "soa_" + "x" * 43, **match)
    assert unknown.status == 401 and unknown.json()["error"] == "unknown_token"
    assert wsgi("GET", PATH, headers=match).status == 401  # no token at all
    issue_token(contract)  # the previous token is revoked
    revoked = get(wsgi, token, **match)
    assert revoked.status == 401 and revoked.json()["error"] == "revoked_token"
    assert revoked.json()["request_id"] == revoked.headers["x-request-id"]
    assert "etag" not in revoked.headers


def test_production_addresses_come_before_304(published, wsgi, issue_token, settings):
    contract, _ = published
    settings.SMARTOA_NOW = None  # production's real clock: a token issued now
    token = issue_token(contract)
    with transaction.atomic():
        add_ips(contract, ["80.12.34.7"], actor="test")
    settings.PRODUCTION = True
    settings.SMARTOA_ENV = "production"
    etag = etag_of(contract)
    assert_not_modified(get(wsgi, token, **{"If-None-Match": etag}), etag)
    elsewhere = wsgi(
        "GET", PATH, headers={"Authorization": f"Bearer {token}", "If-None-Match": etag}, remote_addr="80.12.34.8"
    )
    assert elsewhere.status == 403 and elsewhere.json()["error"] == "ip_not_allowed"
    with transaction.atomic():
        remove_ips(contract, ["80.12.34.7"], actor="test")
    removed = get(wsgi, token, **{"If-None-Match": etag})
    assert removed.status == 403 and "etag" not in removed.headers
    with transaction.atomic():
        add_ips(contract, ["80.12.34.7"], actor="test")
        revoke_tokens(contract, actor="test")
    assert get(wsgi, token, **{"If-None-Match": etag}).status == 401


def test_nothing_published_is_404_whatever_the_condition(make_contract, issue_token, wsgi):
    token = issue_token(make_contract("BOA00001"))
    response = get(wsgi, token, **{"If-None-Match": "*"})
    assert response.status == 404 and response.json()["error"] == "not_found"


def test_the_django_view_gives_the_same_headers(published, wsgi, client):
    """The documented Django route (without the hot path in front) and the hot path agree, 200 and 304."""
    _, token = published
    auth = {"Authorization": f"Bearer {token}"}
    hot = get(wsgi, token)
    django = client.get(PATH, headers=auth)
    assert django.status_code == 200 and django.content == hot.body
    for name in ("ETag", "Last-Modified", "Cache-Control", "Content-Type"):
        assert django.headers[name] == hot.headers[name.lower()], name
    hot_304 = get(wsgi, token, **{"If-None-Match": hot.headers["etag"]})
    django_304 = client.get(PATH, headers={**auth, "If-None-Match": hot.headers["etag"]})
    assert django_304.status_code == 304 and django_304.content == b""
    for name in ("ETag", "Last-Modified", "Cache-Control"):
        assert django_304.headers[name] == hot_304.headers[name.lower()], name
    assert "Content-Type" not in django_304.headers
    # Django adds a Content-Length to every answer; on a 304 it may only be the 200's (RFC 9110 §8.6).
    assert django_304.headers["Content-Length"] == str(len(hot.body))
    assert client.get(PATH, headers={**auth, "If-None-Match": '"0"'}).status_code == 200


def test_one_statement_for_200_and_for_304(published, wsgi, django_assert_num_queries):
    contract, token = published
    get(wsgi, token)  # the token's last use is buffered now, not written during the measured calls
    etag = etag_of(contract)
    with django_assert_num_queries(1):
        assert get(wsgi, token).status == 200
    with django_assert_num_queries(1):
        assert get(wsgi, token, **{"If-None-Match": etag}).status == 304


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        ('"7"', True),
        ('W/"7"', True),
        ('"6", "7"', True),
        ('"6",W/"7"', True),
        ("*", True),
        (" * ", True),
        ('"6"', False),
        ("7", False),
        ('"77"', False),
        ('"7', False),
        ('"6" "7"', False),  # not a list: malformed
        ("", False),
        ('"a,b", "7"', True),
    ],
)
def test_if_none_match_parsing(header, matches):
    assert none_match(header, '"7"') is matches


def test_a_future_if_modified_since_is_ignored():
    now = parse_instant("2025-09-21T15:00:00+02:00")
    version = Validators('"7"', int(PUBLISHED.timestamp()), (("ETag", '"7"'), ("Last-Modified", "…")))
    assert not_modified(None, "Sun, 21 Sep 2025 12:59:59 GMT", version, now)
    assert not not_modified(None, "Sun, 21 Sep 2025 13:00:01 GMT", version, now)
    assert not not_modified(None, None, version, now)
    assert not not_modified('"6"', "Sun, 21 Sep 2025 12:59:59 GMT", version, now)
