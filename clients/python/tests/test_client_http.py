"""The SDK against a real local HTTP server: retries with backoff honouring Retry-After on 429/503, the network
error bounded, refusals not retried, conditional GET (304), and the SSE parser."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from smartoa_client.api import ApiError, Backoff, Client, retry_after_seconds
from smartoa_client.events import HEARTBEAT, EventStream, SseParser

SEED = json.dumps(
    {
        "id": "BOA00001",
        "update_date": "2026-12-06T15:02:11+01:00",
        "application_date": "2026-12-07",
        "data": [
            {"start_date": "2026-12-07T00:00:00+01:00", "end_date": "2026-12-07T11:55:00+01:00", "value": 0.0},
            {"start_date": "2026-12-07T11:55:00+01:00", "end_date": "2026-12-07T18:00:00+01:00", "value": 1.0},
            {"start_date": "2026-12-07T18:00:00+01:00", "end_date": "2026-12-08T00:00:00+01:00", "value": 0.0},
        ],
    }
).encode()


class Scripted(ThreadingHTTPServer):
    """Answers each request with the next (status, headers, body) of ``script`` (the last one repeats) and notes
    when each request arrived and its headers."""

    daemon_threads = True

    def __init__(self, script):
        self.script, self.seen = list(script), []
        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        server = self.server
        server.seen.append((time.monotonic(), dict(self.headers), self.path))
        status, headers, body = server.script.pop(0) if len(server.script) > 1 else server.script[0]
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET  # noqa: N815 - http.server names its handlers so

    def log_message(self, *args):
        pass


@pytest.fixture
def scripted():
    servers = []

    def start(*script):
        servers.append(Scripted(script))
        return servers[-1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def error(status, code, **headers):
    return (
        status,
        {"Content-Type": "application/json", **headers},
        json.dumps({"error": code, "message": code}).encode(),
    )


def test_429_and_503_are_retried_honouring_retry_after(scripted):
    server = scripted(
        error(429, "rate_limited", **{"Retry-After": "1"}),
        error(503, "unavailable"),
        (200, {"Content-Type": "application/json", "ETag": '"v17"'}, SEED),
    )
    client = Client(server.url, "t" * 43, contract="BOA00001", backoff=Backoff(base=0.01, cap=0.05))
    fetched = client.latest()
    assert fetched.consigne is not None and fetched.consigne.id == "BOA00001" and fetched.etag == '"v17"'
    (t429, headers, path), (t503, _, _), (t200, _, _) = server.seen
    assert path == "/api/v1/effacement" and headers["Authorization"] == "Bearer " + "t" * 43
    assert t503 - t429 >= 1.0  # the server's Retry-After, though the backoff alone is at most 0.01 s
    assert t200 - t503 < t503 - t429


def test_retries_are_bounded_and_refusals_are_not_retried(scripted):
    server = scripted(error(503, "unavailable", **{"Retry-After": "0"}))
    waits = []
    client = Client(server.url, "t" * 43, backoff=Backoff(base=0.5, cap=4, attempts=4, sleep=waits.append))
    with pytest.raises(ApiError) as caught:
        client.latest()
    assert caught.value.status == 503 and len(server.seen) == 4 and len(waits) == 3
    assert all(0 <= w <= 4.5 for w in waits)

    refusing = scripted(error(401, "revoked_token"))
    client = Client(refusing.url, "t" * 43, backoff=Backoff(attempts=5, sleep=waits.append))
    with pytest.raises(ApiError, match="HTTP 401 revoked_token") as caught:
        client.latest()
    assert caught.value.auth_failure and len(refusing.seen) == 1


def test_a_network_error_is_retried_then_reported():
    waits = []
    client = Client("http://127.0.0.1:9", "t" * 43, backoff=Backoff(base=0.01, attempts=3, sleep=waits.append))
    with pytest.raises(ApiError, match="network_error"):
        client.latest()
    assert len(waits) == 2


def test_backoff_grows_exponentially_with_full_jitter():
    backoff = Backoff(base=1, cap=8)
    for attempt, ceiling in [(0, 1), (1, 2), (2, 4), (3, 8), (6, 8)]:
        samples = [backoff.delay(attempt) for _ in range(200)]
        assert max(samples) <= ceiling and min(samples) >= 0 and len(set(samples)) > 100
    assert backoff.delay(0, retry_after=7) >= 7
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470) == 10
    assert retry_after_seconds("soon") is None


def test_conditional_get_sends_if_none_match_and_a_304_means_unchanged(scripted):
    server = scripted((304, {"ETag": '"v17"'}, b""))
    fetched = Client(server.url, "t" * 43).latest(etag='"v17"')
    assert fetched.not_modified and fetched.consigne is None and fetched.etag == '"v17"'
    assert server.seen[0][1]["If-None-Match"] == '"v17"'


def test_an_invalid_document_is_refused_before_use(scripted):
    bad = json.loads(SEED)
    bad["data"][1]["start_date"] = "2026-12-07T12:00:00+01:00"
    server = scripted((200, {"Content-Type": "application/json"}, json.dumps(bad).encode()))
    with pytest.raises(ValueError, match="gap between data\\[0\\] ending 2026-12-07T11:55:00\\+01:00"):
        Client(server.url, "t" * 43, contract="BOA00001").latest()


def test_the_sse_parser_follows_the_format():
    parser = SseParser()
    lines = [
        "retry: 5000",
        ": heartbeat",
        "id: 12",
        "event: consigne.published",
        'data: {"id": 12, "type": "consigne.published", "contract": "BOA00001", "day": "2026-12-07", "version": 2}',
        "",
        "",
        "data: first",
        "data:second",
        "",
    ]
    events = [e for e in (parser.feed(line) for line in lines) if e is not None]
    assert [e.type for e in events] == [HEARTBEAT, "consigne.published", "message"]
    assert events[1].id == "12" and events[1].day == "2026-12-07" and events[1].version == 2
    assert events[2].data == {"text": "first\nsecond"} and events[2].id is None
    assert parser.retry_ms == 5000 and parser.last_event_id == "12"


def test_the_stream_resumes_with_last_event_id_after_a_cut(scripted):
    body1 = b'retry: 10\n\nid: 5\nevent: consigne.published\ndata: {"day": "2026-12-07", "version": 1}\n\n'
    body2 = b': heartbeat\n\nid: 6\nevent: consigne.modified\ndata: {"day": "2026-12-07", "version": 2}\n\n'
    stream_headers = {"Content-Type": "text/event-stream"}
    server = scripted((200, stream_headers, body1), (200, stream_headers, body2))
    client = Client(server.url, "t" * 43, contract="BOA00001")
    stream = EventStream(client, "3", backoff=Backoff(base=0.01, cap=0.02, attempts=0))
    received = []
    for event in stream:
        received.append((event.type, event.id))
        if event.id == "6":
            stream.close()
    assert received == [("consigne.published", "5"), (HEARTBEAT, None), ("consigne.modified", "6")]
    assert [seen[1].get("Last-Event-ID") for seen in server.seen] == ["3", "5"]
    assert stream.connections == 2


def test_a_server_without_stream_is_reported_unavailable(scripted):
    from smartoa_client.events import StreamUnavailable

    server = scripted(error(404, "not_found"))
    with pytest.raises(StreamUnavailable):
        next(iter(EventStream(Client(server.url, "t" * 43))))
