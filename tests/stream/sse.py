"""The real stream process for the tests (``smartoa stream`` in a subprocess against the test database) and a small
server-sent-events client reading its answers as they come."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.api.servers import PRODUCTION, free_port
from tests.factories import PUBLIC_IP
from tests.subprocess_env import subprocess_env


@dataclass
class StreamServer:
    port: int
    process: subprocess.Popen
    output: Path

    def logs(self) -> str:
        return self.output.read_text(errors="replace")

    def health(self) -> dict:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
            return json.loads(connection.getresponse().read())
        finally:
            connection.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_stream(tmp_path: Path, *, production: bool = False, **env: str) -> StreamServer:
    """``smartoa stream`` on a free port (heartbeat every second), test or production settings."""
    port = free_port()
    output = tmp_path / f"stream-{port}.log"
    settings = {
        **(PRODUCTION if production else {}),
        "SMARTOA_DATA_DIR": str(tmp_path),
        "SMARTOA_STREAM_HEARTBEAT_SECONDS": "1",
        **env,
    }
    with open(output, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "smartoa.cli", "stream", "--port", str(port)],
            env=subprocess_env(**settings),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = StreamServer(port, process, output)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            server.health()
            return server
        except OSError:
            if process.poll() is not None:
                pytest.fail(f"stream server exited: {server.logs()}")
            time.sleep(0.2)
    server.stop()
    pytest.fail(f"stream server did not start: {server.logs()}")


@dataclass
class Event:
    id: str | None
    type: str | None
    data: dict | None
    comments: list[str] = field(default_factory=list)


class SseClient:
    """One ``GET /api/v1/events`` (from ``ip`` through the trusted proxy 127.0.0.1); ``status``, ``headers`` and,
    for a refusal, ``body``; then ``next()`` reads the stream's events."""

    def __init__(
        self,
        port: int,
        token: str | None,
        *,
        last_event_id: str | None = None,
        query: str = "",
        ip: str = PUBLIC_IP,
        timeout: float = 15,
    ):
        headers = {"X-Forwarded-For": ip, "Host": "127.0.0.1"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.connection.request("GET", "/api/v1/events" + query, headers=headers)
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.headers = {k.lower(): v for k, v in self.response.getheaders()}
        self.body = self.response.read() if self.status != 200 else b""
        self.lines: list[str] = []

    def json(self) -> dict:
        return json.loads(self.body)

    def line(self) -> str | None:
        """The next line of the stream, None at its end."""
        raw = self.response.readline()
        if not raw:
            return None
        return raw.decode().rstrip("\n")

    def block(self) -> Event | None:
        """The next block (the lines up to a blank line), None at the end of the stream."""
        event = Event(None, None, None)
        seen = False
        while True:
            line = self.line()
            if line is None:
                return event if seen else None
            self.lines.append(line)
            if line == "":
                if seen:
                    return event
                continue
            seen = True
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "":
                event.comments.append(value)
            elif name == "id":
                event.id = value
            elif name == "event":
                event.type = value
            elif name == "data":
                event.data = json.loads(value)
            elif name == "retry":
                event.comments.append(f"retry {value}")

    def next_event(self) -> Event:
        """The next event (comments and heartbeats skipped); fails at the end of the stream."""
        while True:
            block = self.block()
            if block is None:
                pytest.fail(f"the stream ended; it sent: {self.lines}")
            if block.type is not None:
                return block

    def until_end(self) -> list[Event]:
        """Read until the server ends the stream; the blocks read."""
        blocks = []
        while (block := self.block()) is not None:
            blocks.append(block)
        return blocks

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self.connection.sock is not None:
                self.connection.sock.shutdown(socket.SHUT_RDWR)
        self.connection.close()
