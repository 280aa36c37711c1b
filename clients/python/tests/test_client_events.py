"""The watcher's handling of ``token.expiring`` (the token expiry is stored and ``status`` warns) and of
``stream.reset`` (the days are re-read), against a real local HTTP server speaking SSE and the API's JSON."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from smartoa_client.config import from_dict
from smartoa_client.documents import PARIS
from smartoa_client.fleet import ContractSession
from smartoa_client.status import WARNING, report
from smartoa_client.store import Store
from smartoa_client.watch import ContractWatcher


class Platform(ThreadingHTTPServer):
    """Routes like the API: the first stream connection sends ``token.expiring`` (id 7) then ``stream.reset``
    (id 9); later ones only a heartbeat. ``/effacements`` answers no day until the reset was sent, then one day."""

    daemon_threads = True

    def __init__(self, expires_at: datetime, day):
        self.expires_at, self.day = expires_at, day
        self.streams, self.reads, self.reset_sent = 0, [], False
        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def document(self) -> dict:
        start = datetime.combine(self.day, datetime.min.time(), tzinfo=PARIS)
        periods = [(start, start + timedelta(hours=12), 0.0), (start + timedelta(hours=12), start + timedelta(1), 1.0)]
        return {
            "id": "BOA00001",
            "update_date": (start - timedelta(hours=9)).isoformat(),
            "application_date": self.day.isoformat(),
            "data": [{"start_date": a.isoformat(), "end_date": b.isoformat(), "value": v} for a, b, v in periods],
        }

    def events(self) -> bytes:
        self.streams += 1
        if self.streams > 1:
            return b": heartbeat\n\n"
        expiring = {
            "id": 7,
            "type": "token.expiring",
            "contract": "BOA00001",
            "day": None,
            "version": None,
            "token_prefix": "abcd1234",
            "expires_at": self.expires_at.isoformat(),
            "url": "/api/v1/token/renew",
        }
        reset = {
            "type": "stream.reset",
            "contract": "BOA00001",
            "message": "events before 8 are no longer kept; re-read the days",
        }
        self.reset_sent = True
        return (
            f"retry: 10\n\nid: 7\nevent: token.expiring\ndata: {json.dumps(expiring)}\n\n"
            f"id: 9\nevent: stream.reset\ndata: {json.dumps(reset)}\n\n"
        ).encode()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        platform: Platform = self.server  # type: ignore[assignment]
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        content_type = "application/json"
        if url.path == "/api/v1/events":
            body, content_type = platform.events(), "text/event-stream"
        elif url.path == "/api/v1/effacements":
            platform.reads.append(platform.reset_sent)
            body = json.dumps([platform.document()] if platform.reset_sent else []).encode()
        elif url.path == "/api/v1/acquiescement":
            deadline = datetime.now(UTC) + timedelta(days=2)  # far: no HLAR finding in the status below
            state = {
                "application_date": query["application_date"],
                "acknowledged": False,
                "version": 1,
                "acknowledged_version": None,
                "acknowledged_at": None,
                "deadline": deadline.isoformat(),
                "locked": False,
            }
            body = json.dumps(state).encode()
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def platform():
    day = datetime.now(PARIS).date() + timedelta(days=1)
    server = Platform(datetime.now(UTC) + timedelta(days=10), day)
    yield server
    server.shutdown()
    server.server_close()


def test_token_expiring_is_stored_and_stream_reset_rereads_the_days(platform, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TOKEN_BOA00001", "t" * 43)
    config = from_dict(
        {
            "base_url": platform.url,
            "store": str(tmp_path / "s.sqlite3"),
            "contracts": [{"id": "BOA00001", "token_env": "TOKEN_BOA00001"}],
            "reread_interval": 3600,  # only the start-up re-read and the one the reset asks for
            "poll_interval": 3600,
            "stream_failures": 1000,
            "idle_timeout": 2,
            "retries": 1,
        }
    )
    store = Store(tmp_path / "s.sqlite3")
    stop = threading.Event()
    session = ContractSession(config, config.contracts[0], store)
    watcher = ContractWatcher(config, session, ack=False, stop=stop)
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while store.contract("BOA00001").last_event_id != "9" or store.latest("BOA00001", platform.day) is None:
            assert time.monotonic() < deadline, "the events were not handled"
            time.sleep(0.05)
    finally:
        stop.set()
        watcher.close()
        thread.join(10)
        session.close()

    state = store.contract("BOA00001")
    assert state.token_expires_at == platform.expires_at
    assert platform.reads[:2] == [False, True]  # the start-up re-read, then the one after the reset
    receipt = store.latest("BOA00001", platform.day)
    assert receipt is not None and receipt.source == "reread" and receipt.version == 1
    errors = capsys.readouterr().err
    assert "BOA00001: the API token expires at" in errors and "renew-token" in errors
    assert "events before 8 are no longer kept; re-read the days; re-reading the days" in errors

    level, line = report(config, store, datetime.now(UTC))
    assert level == WARNING and "BOA00001: token expires in 9 days" in line  # 10 days minus a few seconds
