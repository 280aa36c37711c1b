"""Real servers for the API's end-to-end tests: ``smartoa serve`` in a subprocess, and a TCP relay that stands for a
database server that can be stopped or paused."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.factories import PUBLIC_IP
from tests.subprocess_env import subprocess_env

PRODUCTION = {
    "SMARTOA_ENV": "production",
    "SMARTOA_SECRET_KEY": "p" * 50,
    "SMARTOA_ALLOWED_HOSTS": "127.0.0.1",
    # The test client calls from 127.0.0.1 as a proxy would, for the public address of X-Forwarded-For
    # (loopback addresses cannot be declared for a contract).
    "SMARTOA_TRUSTED_PROXIES": "127.0.0.1",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    access_log: Path
    output: Path  # the server's standard output and error: its error log

    def logs(self) -> str:
        return self.output.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(tmp_path: Path, *, workers: int = 2, **env: str) -> Server:
    """``smartoa serve`` on a free port, production settings, against the test database (or ``DATABASE_URL``)."""
    port = free_port()
    access_log, output = tmp_path / f"access-{port}.log", tmp_path / f"server-{port}.log"
    environment = subprocess_env(**{**PRODUCTION, "SMARTOA_DATA_DIR": str(tmp_path), **env})
    command = [sys.executable, "-m", "smartoa.cli", "serve", "--port", str(port), "--workers", str(workers)]
    with open(output, "w") as out:
        process = subprocess.Popen(
            [*command, "--access-log", str(access_log)],
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(port, process, access_log, output)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server
        except OSError:
            if process.poll() is not None:
                pytest.fail(f"server exited: {server.logs()}")
            time.sleep(0.2)
    server.stop()
    pytest.fail("server did not start")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self):
        return json.loads(self.body)


def call(
    port: int,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: object = None,
    headers: dict[str, str] | None = None,
    ip: str = PUBLIC_IP,
    timeout: float = 30,
) -> Answer:
    """One request on a fresh connection, from ``ip`` (X-Forwarded-For through the trusted 127.0.0.1)."""
    all_headers = {"X-Forwarded-For": ip, "X-Forwarded-Proto": "https", **(headers or {})}
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    if data is not None:
        all_headers["Content-Type"] = "application/json"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    started = time.monotonic()
    try:
        connection.request(method, path, body=data, headers=all_headers)
        response = connection.getresponse()
        answer = Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read(), 0.0)
    finally:
        connection.close()
    answer.seconds = time.monotonic() - started
    return answer


class TcpRelay:
    """A TCP relay from 127.0.0.1:``port`` to ``target``, standing for the database server: ``down()`` closes its
    connections and refuses new ones (the server stopped), ``stall()`` keeps them open and relays nothing (the
    server paused with SIGSTOP: the kernel still accepts and acknowledges, nobody answers)."""

    def __init__(self, target: tuple[str, int]):
        self.target, self.port = target, free_port()
        self.mode = "up"
        self.lock = threading.Lock()
        self.sockets: set[socket.socket] = set()
        self.listener: socket.socket | None = None
        self.up()

    def up(self) -> None:
        self.mode = "up"
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stall(self) -> None:
        self.mode = "stall"

    def resume(self) -> None:
        self.mode = "up"

    def down(self) -> None:
        self.mode = "down"
        if self.listener is not None:
            self.listener.close()
            self.listener = None
        with self.lock:
            sockets, self.sockets = self.sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    close = down

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by down()
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets |= {client, upstream}
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump(self, source: socket.socket, destination: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                while self.mode == "stall":
                    time.sleep(0.02)  # hold what was received: acknowledged, never answered
                if self.mode == "down":
                    break
                destination.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, destination):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
