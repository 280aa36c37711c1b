"""Security headers and cookies of the pages: CSP without inline scripts, no framing, a referrer policy, CSRF on
every form; in production (the real server behind a TLS proxy), HSTS and secure cookies."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.api.servers import call, start_server


@pytest.mark.django_db
def test_pages_forbid_inline_scripts_and_framing(client):
    response = client.get(reverse("web:login"), HTTP_HOST="localhost")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", html)  # every script is a file
    assert " style=" not in html and "<style" not in html  # no inline style either (style-src 'self')


@pytest.mark.django_db
def test_a_form_without_its_csrf_token_is_refused(make_contract):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True, HTTP_HOST="localhost")
    response = strict.post(reverse("web:login"), {"username": "a@b.fr", "password": "x"})
    assert response.status_code == 403


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_production_sends_hsts_and_secure_cookies(tmp_path):
    server = start_server(tmp_path, workers=1)
    try:
        answer = call(server.port, "GET", "/connexion/", headers={"X-Forwarded-Proto": "https", "Host": "127.0.0.1"})
    finally:
        server.stop()
    assert answer.status == 200, answer.body[:300]
    assert answer.headers["strict-transport-security"].startswith("max-age=31536000")
    cookie = answer.headers["set-cookie"]
    assert "csrftoken=" in cookie and "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    plain = None
    server = start_server(tmp_path, workers=1)
    try:
        plain = call(server.port, "GET", "/connexion/", headers={"Host": "127.0.0.1", "X-Forwarded-Proto": "http"})
    finally:
        server.stop()
    assert plain.status == 301 and plain.headers["location"].startswith("https://")  # plain HTTP is sent to HTTPS
