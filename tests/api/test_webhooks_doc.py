"""docs/webhooks.md's verification examples work: the Python block and the openssl block, taken from the document
itself, are run against a real webhook call (a publication, delivered by the outbox's sender to a real HTTP
receiver on loopback) and accept it, and refuse it once tampered with or under another secret."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import transaction

from smartoa.notifications.services import set_webhook
from tests.factories import deliver_outbox, paris, publish_day
from tests.notifications.receiver import Receiver

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
DAY = date(2026, 11, 25)
NOW = paris("2026-11-24", "09:00")


def block(language: str) -> str:
    """The fenced block that follows the ``<!-- tested: LANGUAGE …-->`` marker of the document."""
    found = re.search(rf"<!-- tested: {language}\b[^>]*-->\n```{language}\n(.*?)\n```", DOC.read_text(), re.DOTALL)
    assert found, f"docs/webhooks.md has no tested {language} block"
    return found[1]


@pytest.fixture
def delivered(db, settings, make_contract):
    """A real signed call: (secret, headers with lower-case names, body bytes)."""
    settings.SMARTOA_NOW = NOW
    receiver = Receiver()
    try:
        contract = make_contract("BOA00001")
        with transaction.atomic():
            secret = set_webhook(contract, receiver.url, actor="test")
        publish_day(contract, DAY)
        assert deliver_outbox() == {"delivered": 1}
        (call,) = receiver.requests
    finally:
        receiver.close()
    assert call.headers["x-smartoa-event"] == "consigne.published" and call.headers["x-smartoa-event-id"]
    return secret, call.headers, call.body


def test_the_python_example_verifies_a_real_call(delivered):
    secret, headers, body = delivered
    example: dict = {}
    exec(compile(block("python"), str(DOC), "exec"), example)  # noqa: S102 - the documentation's own code
    verify, handle = example["verify"], example["handle"]
    signed_at = int(headers["x-smartoa-timestamp"])
    assert signed_at == int(NOW.timestamp())
    assert verify(secret, headers, body, now=signed_at + 10)
    assert not verify(secret, headers, body + b" ", now=signed_at)  # tampered body
    assert not verify("whsec_" + "0" * 48, headers, body, now=signed_at)  # another secret
    assert not verify(secret, headers, body, now=signed_at + 301)  # too old: a replay
    assert not verify(secret, {**headers, "x-smartoa-timestamp": str(signed_at + 1)}, body, now=signed_at)
    assert not verify(secret, headers, body)  # the real clock: the call was signed at the tests' frozen time

    example["time"] = SimpleNamespace(time=lambda: signed_at)  # the example's clock, as when the call arrives
    acted, seen = [], set()
    assert handle(secret, headers, body, seen, lambda event, payload: acted.append((event, payload["id"]))) == 200
    assert handle(secret, headers, body, seen, lambda event, payload: acted.append("again")) == 200  # same id
    assert handle(secret, headers, body + b"x", seen, lambda event, payload: acted.append("forged")) == 401
    assert acted == [("consigne.published", "BOA00001")] and seen == {headers["x-smartoa-delivery"]}


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_the_openssl_example_verifies_a_real_call(delivered, tmp_path):
    secret, headers, body = delivered

    def run(body_bytes: bytes, key: str) -> subprocess.CompletedProcess:
        (tmp_path / "body.json").write_bytes(body_bytes)
        env = {
            "PATH": "/usr/bin:/bin",
            "SECRET": key,
            "TIMESTAMP": headers["x-smartoa-timestamp"],
            "SIGNATURE": headers["x-smartoa-signature"],
        }
        script = "set -eu\n" + block("sh")
        return subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)

    good = run(body, secret)
    assert good.returncode == 0 and good.stdout.strip() == "signature valid", good.stderr
    tampered = run(body.replace(b"BOA00001", b"BOA00002"), secret)
    assert tampered.returncode == 1 and "INVALID" in tampered.stderr
    assert run(body, "whsec_another").returncode == 1
