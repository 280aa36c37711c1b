"""The committed nginx site (``deploy/nginx/smartoa.conf``), run by a real nginx with a self-signed certificate in
front of the real ``smartoa serve`` and ``smartoa stream`` in production settings (SMARTOA_TRUSTED_PROXIES=127.0.0.1,
the proxy's address). Clients call from other loopback addresses (127.0.0.2…): the allow-list sees the client's
own address through the proxy and a forged ``X-Forwarded-For`` cannot fool it; 64 slow clients sending partial
headers do not stop normal requests; HTTP is redirected to HTTPS; the login and API limits answer 429 (the API's
in its JSON shape), bodies and headers too large 413 and 400; the event stream passes unbuffered.

Run once, on PostgreSQL (the production database): skipped on SQLite, which the other tests cover."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from django.core.cache import cache
from django.db import connection, transaction

from smartoa.contracts.models import AllowedIP, Contract
from smartoa.contracts.services import add_ips
from tests.api.servers import start_server
from tests.deploy.proxy import start_nginx
from tests.factories import PUBLIC_IP, make_token, publish_day
from tests.stream.sse import SseClient, start_stream

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

CLIENT, OTHER, API_BURST, LOGIN_BURST = "127.0.0.2", "127.0.0.3", "127.0.0.9", "127.0.0.8"
DAY = date(2026, 12, 20)


@pytest.fixture(scope="module")
def proxied(tmp_path_factory, django_db_setup, django_db_blocker):
    """nginx → smartoa serve and smartoa stream (production settings), started once for the module."""
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            pytest.skip("the nginx tests run once, on PostgreSQL")
        directory = tmp_path_factory.mktemp("deploy")
        settings = {"SMARTOA_ALLOWED_HOSTS": "127.0.0.1,localhost", "SMARTOA_API_FAILURE_RATE": "10000/m"}
        web = start_server(directory, **settings)
        stream = start_stream(directory, production=True, **settings)
    try:
        proxy = start_nginx(directory / "nginx", web=web.port, stream=stream.port)
        proxy.web_access_log = web.access_log
    except BaseException:
        web.stop()
        stream.stop()
        raise
    yield proxy
    proxy.stop()
    stream.stop()
    web.stop()


@pytest.fixture
def token(make_contract):
    """A contract whose allow-list holds the public PUBLIC_IP (declared through the services) and the test's
    loopback client addresses: loopback cannot be declared (only public addresses can), so those rows stand for
    the client's public address and are written directly."""
    contract = make_contract("BOA00001")
    with transaction.atomic():
        add_ips(contract, [PUBLIC_IP], actor="test")
    for address in (CLIENT, API_BURST):
        AllowedIP.objects.create(contract=contract, address=address)
    yield make_token(contract)
    cache.clear()


def https(proxy, method: str, path: str, *, source: str = CLIENT, headers=None, body: bytes | None = None):
    connection_ = proxy.connection(source)
    try:
        connection_.request(method, path, body=body, headers={"Host": "127.0.0.1", **(headers or {})})
        response = connection_.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection_.close()


def api(proxy, token: str, *, source: str = CLIENT, forged: str | None = None):
    headers = {"Authorization": f"Bearer {token}"}
    if forged:
        headers["X-Forwarded-For"] = forged
    return https(proxy, "GET", "/api/v1/effacement", source=source, headers=headers)


def test_the_allow_list_sees_the_clients_own_address_through_the_proxy(proxied, token):
    status, _, body = api(proxied, token, source=CLIENT)
    assert status != 403, body
    assert b"ip_not_allowed" not in body
    status, _, body = api(proxied, token, source=OTHER)
    assert status == 403
    assert json.loads(body)["error"] == "ip_not_allowed"
    assert "127.0.0.3" in json.loads(body)["message"]  # the client's address, not the proxy's 127.0.0.1


def test_a_forged_x_forwarded_for_cannot_fool_the_allow_list(proxied, token):
    # From an undeclared address, claiming the declared public one (alone, or as a chain).
    for forged in (PUBLIC_IP, f"{PUBLIC_IP}, {PUBLIC_IP}", f"1.2.3.4, {PUBLIC_IP}"):
        status, _, body = api(proxied, token, source=OTHER, forged=forged)
        assert status == 403, (forged, body)
        assert "127.0.0.3" in json.loads(body)["message"]
    # From the proxy's own machine (an address the platform trusts as a proxy): an appended header would make the
    # forged address the right-most untrusted hop; nginx replaces it.
    status, _, body = api(proxied, token, source="127.0.0.1", forged=PUBLIC_IP)
    assert status == 403, body
    # From a declared address, claiming an undeclared one: still the real address that counts.
    status, _, body = api(proxied, token, source=CLIENT, forged="1.2.3.4")
    assert status != 403, body


def test_http_is_redirected_to_https(proxied):
    plain = http.client.HTTPConnection("127.0.0.1", proxied.http_port, timeout=10)
    try:
        plain.request("GET", "/connexion/?next=/portail/", headers={"Host": "127.0.0.1"})
        response = plain.getresponse()
        response.read()
    finally:
        plain.close()
    assert response.status == 301
    assert response.getheader("Location") == f"https://127.0.0.1:{proxied.https_port}/connexion/?next=/portail/"


def test_https_serves_the_portal_with_hsts_once(proxied):
    status, headers, body = https(proxied, "GET", "/connexion/")
    assert status == 200, body[:300]  # X-Forwarded-Proto says https: no redirect loop
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    status, headers, _ = https(proxied, "GET", "/static/does-not-exist.css")
    assert status == 404
    status, _, body = https(proxied, "GET", "/healthz")
    assert (status, json.loads(body)["status"]) == (200, "ok")
    assert https(proxied, "GET", "/metrics", source="127.0.0.1")[0] == 404  # even from an allowed address


def test_the_login_posts_are_limited_with_429_not_the_page(proxied):
    statuses = [https(proxied, "POST", "/connexion/", source=LOGIN_BURST, body=b"x=1")[0] for _ in range(12)]
    assert 429 in statuses
    assert statuses[0] != 429
    # The page itself is not limited (nor another address).
    assert {https(proxied, "GET", "/connexion/", source=LOGIN_BURST)[0] for _ in range(8)} == {200}
    assert https(proxied, "POST", "/connexion/", source=CLIENT, body=b"x=1")[0] != 429


def test_the_api_limit_answers_429_in_the_apis_json_shape(proxied, token):
    connection_ = proxied.connection(API_BURST)
    seen: list[tuple[int, dict, bytes]] = []
    try:
        for _ in range(400):
            connection_.request("GET", "/api/v1/effacement", headers={"Authorization": f"Bearer {token}"})
            response = connection_.getresponse()
            seen.append((response.status, dict(response.getheaders()), response.read()))
            if response.status == 429:
                break
    finally:
        connection_.close()
    status, headers, body = seen[-1]
    assert status == 429, f"no 429 after {len(seen)} calls"
    assert len(seen) > 100  # the burst first
    assert json.loads(body)["error"] == "rate_limited"
    assert headers["Content-Type"] == "application/json"
    assert headers["Retry-After"] == "1"
    # Another address is not limited.
    assert api(proxied, token, source=CLIENT)[0] != 429


def test_bodies_and_headers_too_large_are_refused_by_the_proxy(proxied):
    status, _, body = https(
        proxied, "POST", "/api/v1/acquittement", body=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert status == 413
    assert json.loads(body)["error"] == "payload_too_large"
    status, _, _ = https(proxied, "POST", "/connexion/", headers={"Content-Length": str(30 * 1024 * 1024)})
    assert status == 413
    status, _, _ = https(proxied, "GET", "/connexion/", headers={"X-Big": "a" * 20000})
    assert status == 400


def slow_client(proxy, stop: threading.Event, opened: list) -> None:
    """One TLS connection that sends a request's headers a few bytes at a time and never finishes them."""
    raw = socket.create_connection(("127.0.0.1", proxy.https_port), timeout=30, source_address=(OTHER, 0))
    sock = proxy.context().wrap_socket(raw, server_hostname="127.0.0.1")
    opened.append(sock)
    sock.sendall(b"GET /slow-client/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    while not stop.wait(0.5):
        with contextlib.suppress(OSError):
            sock.sendall(b"X-Slow: 1\r\n")


def test_slow_clients_do_not_stop_normal_requests(proxied, token):
    stop, opened = threading.Event(), []
    threads = [threading.Thread(target=slow_client, args=(proxied, stop, opened), daemon=True) for _ in range(64)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 30
        while len(opened) < 64 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(opened) == 64
        with ThreadPoolExecutor(8) as pool:
            pages = list(pool.map(lambda _: https(proxied, "GET", "/connexion/")[0], range(24)))
            calls = list(pool.map(lambda _: api(proxied, token)[0], range(24)))
        assert set(pages) == {200}
        assert 403 not in calls and all(status < 500 for status in calls)
        # The slow requests never reached the platform: nginx holds them until their headers are complete.
        logged = proxied.web_access_log.read_text()
        assert "GET /connexion/ " in logged  # the normal ones
        assert "/slow-client/" not in logged
    finally:
        stop.set()
        for sock in opened:
            with contextlib.suppress(OSError):
                sock.close()


class ProxiedStream(SseClient):
    """The event stream read through the proxy, over HTTPS, from ``source``."""

    def __init__(self, proxy, token: str, source: str):
        self.connection = proxy.connection(source, timeout=20)
        self.connection.request("GET", "/api/v1/events", headers={"Authorization": f"Bearer {token}"})
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.headers = {k.lower(): v for k, v in self.response.getheaders()}
        self.body = self.response.read() if self.status != 200 else b""
        self.lines = []


def test_the_event_stream_passes_the_proxy_unbuffered(proxied, token):
    stream = ProxiedStream(proxied, token, CLIENT)
    try:
        assert stream.status == 200, stream.body
        assert stream.headers["content-type"].startswith("text/event-stream")
        first = stream.block()  # retry: sent at once, not held in a buffer
        assert first is not None and "retry 5000" in first.comments
        publish_day(Contract.objects.get(contract_id="BOA00001"), DAY)
        event = stream.next_event()
        assert event.type == "consigne.published"
        assert event.data["contract"] == "BOA00001"
    finally:
        stream.close()
    refused = ProxiedStream(proxied, token, OTHER)
    assert refused.status == 403 and refused.json()["error"] == "ip_not_allowed"
    refused.close()
