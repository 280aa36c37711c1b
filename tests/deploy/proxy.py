"""A real nginx (Debian's package) in front of the real platform for the deployment tests: the committed site
``deploy/nginx/smartoa.conf`` rendered for loopback test ports, a self-signed certificate made by openssl, nginx
run in its own prefix (pid, logs and temporary files in a test directory), and HTTPS calls from a chosen loopback
source address (so that nginx's ``$remote_addr`` is the client's own address, not the proxy's)."""

from __future__ import annotations

import http.client
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.api.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "smartoa.conf"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1 (``openssl req -x509``) and its key."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def render_site(text: str, *, http: int, https: int, web: int, stream: int, cert: Path, key: Path) -> str:
    """The committed site with the test's ports, certificate and host name: each production value replaced
    where it is expected (a change of the committed file that this does not know fails here, loudly)."""
    replacements = [
        ("    listen 80;\n", f"    listen 127.0.0.1:{http};\n", 1),
        ("    listen [::]:80;\n", "", 1),
        ("    listen 443 ssl http2;", f"    listen 127.0.0.1:{https} ssl http2;", 1),
        ("    listen [::]:443 ssl http2;\n", "", 1),
        ("return 301 https://$host$request_uri;", f"return 301 https://$host:{https}$request_uri;", 1),
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{web};", 1),
        ("server 127.0.0.1:8001;", f"server 127.0.0.1:{stream};", 1),
        ("/etc/ssl/smartoa/fullchain.pem", str(cert), 1),
        ("/etc/ssl/smartoa/privkey.pem", str(key), 1),
        ("server_name smart-oa.example.fr;", "server_name localhost 127.0.0.1;", 2),
    ]
    for old, new, count in replacements:
        assert text.count(old) == count, f"deploy/nginx/smartoa.conf: expected {count} × {old!r}"
        text = text.replace(old, new)
    return text


def main_config(directory: Path, site: Path) -> str:
    """nginx's own configuration for the test: everything in ``directory``; the site included in http."""
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp = " ".join(f"{kind}_temp_path {directory / kind};" for kind in kinds)
    return f"""
{user}
worker_processes 1;
pid {directory / "nginx.pid"};
error_log {directory / "error.log"} warn;
events {{ worker_connections 1024; }}
http {{
    default_type application/octet-stream;
    access_log {directory / "access.log"};
    {temp}
    include {site};
}}
"""


@dataclass
class Nginx:
    process: subprocess.Popen
    directory: Path
    http_port: int
    https_port: int
    cert: Path
    web_access_log: Path | None = None  # the platform's access log behind it (set by the test)

    def error_log(self) -> str:
        path = self.directory / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))

    def connection(self, source: str, timeout: float = 30) -> http.client.HTTPSConnection:
        """An HTTPS connection from the loopback address ``source`` (checks the certificate)."""
        return http.client.HTTPSConnection(
            "127.0.0.1", self.https_port, context=self.context(), timeout=timeout, source_address=(source, 0)
        )


def start_nginx(directory: Path, *, web: int, stream: int) -> Nginx:
    binary = nginx_binary()
    if binary is None:
        pytest.skip("nginx is not installed (scripts/test.sh installs Debian's nginx)")
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = self_signed(directory)
    http_port, https_port = free_port(), free_port()
    site = directory / "smartoa.conf"
    site.write_text(
        render_site(SITE.read_text(), http=http_port, https=https_port, web=web, stream=stream, cert=cert, key=key)
    )
    conf = directory / "nginx.conf"
    conf.write_text(main_config(directory, site))
    check = subprocess.run(
        [binary, "-t", "-p", str(directory), "-e", str(directory / "error.log"), "-c", str(conf)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen(
        [binary, "-p", str(directory), "-e", str(directory / "error.log"), "-c", str(conf), "-g", "daemon off;"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    server = Nginx(process, directory, http_port, https_port, cert)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", https_port), timeout=0.5).close()
            return server
        except OSError:
            if process.poll() is not None:
                pytest.fail(f"nginx exited: {server.error_log()}")
            time.sleep(0.1)
    server.stop()
    pytest.fail(f"nginx did not start: {server.error_log()}")
