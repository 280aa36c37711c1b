"""A real running platform for the client's end-to-end tests: ``smartoa serve`` (and, once it exists, ``smartoa
stream``) in subprocesses on the test database, behind a TCP relay that can answer 429 itself or point to a
restarted server; the client run as its real command in a subprocess."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests.api.servers import free_port
from tests.subprocess_env import subprocess_env

CLIENT_SRC = Path(__file__).resolve().parents[1] / "src"

TEST_ENV = {
    "SMARTOA_ENV": "test",
    "SMARTOA_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SMARTOA_STREAM_HEARTBEAT_SECONDS": "1",
}


def wait_port(port: int, process: subprocess.Popen, logs, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if process.poll() is not None:
                pytest.fail(f"{what} exited: {logs()}")
            time.sleep(0.2)
    pytest.fail(f"{what} did not start: {logs()}")


@dataclass
class Process:
    name: str
    port: int
    process: subprocess.Popen
    output: Path

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


def start(tmp_path: Path, name: str, args: list[str], port: int | None = None, **env: str) -> Process:
    """``smartoa ARGS --port PORT`` on the test database, test environment, until its port answers."""
    port = port or free_port()
    output = tmp_path / f"{name}-{port}-{time.monotonic_ns()}.log"
    environment = subprocess_env(**{**TEST_ENV, "SMARTOA_DATA_DIR": str(tmp_path), **env})
    with open(output, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "smartoa.cli", *args, "--port", str(port)],
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    running = Process(name, port, process, output)
    wait_port(port, process, running.logs, name)
    return running


def stream_command_exists() -> bool:
    from django.core.management import get_commands

    return "stream" in get_commands()


class Relay:
    """What the client connects to: relays TCP to ``target`` (the server's port); ``refuse_with_429(n)`` answers the
    next n requests itself with 429 and ``Retry-After: 1`` (as a rate-limiting proxy would); ``retarget(port)``
    points it at a restarted server. While the target is down, connections are closed at once."""

    def __init__(self, target: int):
        self.target = target
        self.port = free_port()
        self.answer_429 = 0
        self.answered_429 = 0
        self.lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(128)
        self.sockets: set[socket.socket] = set()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def refuse_with_429(self, count: int) -> None:
        with self.lock:
            self.answer_429 = count

    def retarget(self, port: int) -> None:
        self.target = port

    def cut(self) -> None:
        """Close every relayed connection (a network cut): open streams end."""
        with self.lock:
            sockets, self.sockets = self.sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        self.listener.close()
        self.cut()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with self.lock:
            refuse = self.answer_429 > 0
            if refuse:
                self.answer_429 -= 1
                self.answered_429 += 1
        if refuse:
            with contextlib.suppress(OSError):
                client.recv(65536)
                body = b'{"error": "rate_limited", "message": "slow down"}'
                client.sendall(
                    b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
                    b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
            client.close()
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
        except OSError:
            client.close()
            return
        with self.lock:
            self.sockets |= {client, upstream}
        threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
        threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump(self, source: socket.socket, destination: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                destination.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, destination):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@dataclass
class Platform:
    tmp_path: Path
    server: Process
    relay: Relay
    stream: Process | None = None
    extra: list[Process] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.relay.url

    def restart_server(self, pause: float = 0.0) -> None:
        """Stop the server, wait ``pause`` seconds, start a new one (another port) and point the relay at it."""
        self.server.stop()
        time.sleep(pause)
        self.server = start(self.tmp_path, "server", ["serve", "--workers", "1"], **self._stream_url())
        self.relay.retarget(self.server.port)

    def _stream_url(self) -> dict[str, str]:
        return {"SMARTOA_STREAM_URL": f"http://127.0.0.1:{self.stream.port}"} if self.stream else {}

    def stop(self) -> None:
        self.relay.close()
        for process in (self.server, self.stream, *self.extra):
            if process is not None:
                process.stop()


def start_platform(tmp_path: Path, *, with_stream: bool = True) -> Platform:
    stream = None
    if with_stream and stream_command_exists():
        stream = start(tmp_path, "stream", ["stream"])
    env = {"SMARTOA_STREAM_URL": f"http://127.0.0.1:{stream.port}"} if stream else {}
    server = start(tmp_path, "server", ["serve", "--workers", "1"], **env)
    return Platform(tmp_path, server, Relay(server.port), stream)


def write_config(tmp_path: Path, url: str, contracts: list[tuple[str, str, str]], **options) -> Path:
    """A client configuration: contracts as (id, "env"|"file", token); file tokens written 0600."""
    lines = [f'base_url = "{url}"', f'store = "{tmp_path / "client.sqlite3"}"']
    for key, value in options.items():
        if isinstance(value, dict):
            continue
        lines.append(f"{key} = {toml_value(value)}")
    for key, value in options.items():
        if isinstance(value, dict):
            lines.append(f"[{key}]")
            lines += [f"{k} = {toml_value(v)}" for k, v in value.items()]
    for contract, kind, token in contracts:
        lines += ["[[contracts]]", f'id = "{contract}"']
        if kind == "env":
            lines.append(f'token_env = "TOKEN_{contract}"')
        else:
            path = tmp_path / f"{contract}.token"
            path.write_text(token + "\n")
            os.chmod(path, 0o600)
            lines.append(f'token_file = "{path}"')
    path = tmp_path / "client.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def client_env(tokens: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTOA_")}
    env["PYTHONPATH"] = str(CLIENT_SRC)
    env["PYTHONUNBUFFERED"] = "1"
    for contract, token in (tokens or {}).items():
        env[f"TOKEN_{contract}"] = token
    return env


def run_client(config: Path, *args: str, tokens: dict[str, str] | None = None, timeout: float = 120):
    """``smartoa-client --config CONFIG ARGS`` (the real command), its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "smartoa_client.cli", "--config", str(config), *args],
        env=client_env(tokens),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


class Watch:
    """``smartoa-client watch`` running in the background."""

    def __init__(self, config: Path, *args: str, tokens: dict[str, str] | None = None):
        self.output = config.parent / f"watch-{time.monotonic_ns()}.log"
        with open(self.output, "w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "smartoa_client.cli", "--config", str(config), "-v", "watch", *args],
                env=client_env(tokens),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def logs(self) -> str:
        return self.output.read_text(errors="replace")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def wait_until(condition, *, timeout: float = 30, what: str = "the condition", logs=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}" + (f"\n{logs()}" if logs else ""))


def python_command(script: Path) -> str:
    return f"{sys.executable} {script}"
