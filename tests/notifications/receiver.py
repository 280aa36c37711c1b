"""A real HTTP server on loopback standing for a producer's webhook receiver: it records every request, answers
with the statuses it is given (then a default), checks signatures the way a receiver should, and can stall (hold
the requests without answering) until released."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def delivery(self) -> str:
        return self.headers.get("x-smartoa-delivery", "")

    @property
    def event(self) -> str:
        return self.headers.get("x-smartoa-event", "")


def signature_ok(received: Received, secret: str) -> bool:
    """What a receiver does: HMAC-SHA256 of "<timestamp>.<body>" with the secret, compared in constant time."""
    timestamp = received.headers.get("x-smartoa-timestamp", "")
    expected = (
        "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + received.body, hashlib.sha256).hexdigest()
    )
    return bool(timestamp) and hmac.compare_digest(expected, received.headers.get("x-smartoa-signature", ""))


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # as a real server's: calls arrive dozens at a time
    daemon_threads = True


class Receiver:
    def __init__(self, statuses=(), *, default: int = 200):
        self.requests: list[Received] = []
        self.statuses = list(statuses)
        self.default = default
        self.stall = threading.Event()  # set: hold requests until ``release``
        self._released = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    status = receiver.statuses.pop(0) if receiver.statuses else receiver.default
                if receiver.stall.is_set():
                    receiver._released.wait(30)
                    return  # never answered: the connection is dropped
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/smartoa"

    def wait_for(self, count: int, timeout: float = 30) -> bool:
        """True once ``count`` requests have arrived (False after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.requests) >= count:
                return True
            time.sleep(0.02)
        return False

    def release(self) -> None:
        self.stall.clear()
        self._released.set()

    def close(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()
