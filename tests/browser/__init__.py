"""Browser tests: Playwright (Python) driving Debian's chromium against the live test server.

``browser`` launches chromium once per test session; ``Visitor`` wraps a page with what the portal tests need:
screenshots at phone and desktop width, axe-core accessibility checks, a check that nothing scrolls sideways at
390 px, and a log of the page's JavaScript errors and CSP refusals (which must stay empty).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from django_otp.oath import TOTP

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
PHONE, DESKTOP = 390, 1280
OUTPUT = Path(os.environ.get("SMARTOA_TEST_OUTPUT", Path.cwd() / "var" / "test-output")) / "screenshots"

needs_chromium = pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian chromium is not installed")


def _axe_source() -> str:
    if not AXE.exists():
        raise RuntimeError(f"{AXE} is missing: run `npm ci --prefix tests/browser` (scripts/test.sh does)")
    return AXE.read_text()


def totp_code(secret: str, *, at: datetime | None = None, steps_ahead: int = 0) -> str:
    """The code of a base32 ``secret`` (as the enrolment page shows it) at ``at`` (default: now)."""
    import base64

    text = secret.replace(" ", "").upper()
    key = base64.b32decode(text + "=" * (-len(text) % 8))
    totp = TOTP(key)
    totp.time = (at.timestamp() if at else datetime.now().timestamp()) + 30 * steps_ahead  # noqa: DTZ005
    return f"{totp.token():06d}"


class Visitor:
    """One browser context (cookies) and page, at a width and in a language."""

    def __init__(self, browser, base_url: str, *, width: int = DESKTOP, language: str = "fr", javascript: bool = True):
        self.base_url = base_url
        self.width = width
        self.context = browser.new_context(
            viewport={"width": width, "height": 900},
            locale="fr-FR" if language == "fr" else "en-GB",
            java_script_enabled=javascript,
        )
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        self.page.on("console", self._console)
        self.page.on("response", self._response)

    def _console(self, msg) -> None:
        # A form refused with 400 is logged by chromium as a failed load: resources are checked in _response.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            self.problems.append(f"console: {msg.text}")

    def _response(self, response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            self.problems.append(f"{response.status} for {response.url}")

    def go(self, path: str):
        return self.page.goto(self.base_url + path)

    def close(self):
        self.context.close()

    # --- checks ---------------------------------------------------------------------------------------------

    def screenshot(self, name: str) -> Path:
        OUTPUT.mkdir(parents=True, exist_ok=True)
        path = OUTPUT / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}-{self.width}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def horizontal_overflow(self) -> int:
        """How many pixels the page is wider than the window (0: nothing scrolls sideways)."""
        return self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")

    def accessibility_problems(self) -> list[str]:
        """axe-core's serious and critical violations of the current page (axe is evaluated through the DevTools
        protocol, which the page's CSP does not govern; the page itself is left as it is)."""
        self.page.evaluate(_axe_source())
        result = self.page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        return [
            f"{v['impact']}: {v['id']} — {v['help']} ({len(v['nodes'])}× e.g. {v['nodes'][0]['target']})"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    def check_page(self, name: str) -> Path:
        """Screenshot, no sideways scrolling at phone width, no serious accessibility problem, no script error;
        returns the screenshot's path."""
        shot = self.screenshot(name)
        assert self.horizontal_overflow() <= 0, f"{name}: the page scrolls sideways at {self.width} px"
        problems = self.accessibility_problems()
        assert problems == [], f"{name}: {problems}"
        assert self.problems == [], f"{name}: {self.problems}"
        return shot


def decode_qr(image: Path) -> list[str]:
    """The texts of the QR codes a person could scan from ``image`` (Debian's zbarimg, as a phone's camera would
    read the screen)."""
    found = subprocess.run(
        ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(image)],
        capture_output=True,
        text=True,
        check=False,
    )
    return [line for line in found.stdout.splitlines() if line]
