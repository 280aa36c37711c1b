"""The lockout counters are shared by the server processes: failed logins spread over two servers on one database
lock the account everywhere (the database cache by default), and only the account: a colleague behind the same
address still logs in."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
from django.db import transaction

from smartoa.accounts.models import User
from tests.api.servers import call, start_server

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]


def login_attempt(port: int, password: str, email: str = "producer@example.fr") -> int:
    """GET the login page (cookie and CSRF token), then POST the credentials; returns the POST's status."""
    base = {"Host": "127.0.0.1", "Referer": "https://127.0.0.1/connexion/"}
    page = call(port, "GET", "/connexion/", headers=base)
    cookie = SimpleCookie(page.headers["set-cookie"])["csrftoken"].value
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body).group(1).decode()
    body = urlencode({"csrfmiddlewaretoken": token, "username": email, "password": password})
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            "POST",
            "/connexion/",
            body=body,
            headers={
                **base,
                "X-Forwarded-Proto": "https",
                "X-Forwarded-For": "80.12.34.56",
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={cookie}",
            },
        )
        return connection.getresponse().status
    finally:
        connection.close()


def test_failures_on_two_server_processes_lock_the_account(tmp_path, settings):
    with transaction.atomic():
        User.objects.create_user("producer@example.fr", "Correct-Horse-Battery-42", must_change_password=False)
        User.objects.create_user("colleague@example.fr", "Correct-Horse-Battery-43", must_change_password=False)
    env = {"SMARTOA_BASE_URL": "https://127.0.0.1", "SMARTOA_LOGIN_FAILURES": "4"}
    first, second = start_server(tmp_path, workers=1, **env), start_server(tmp_path, workers=1, **env)
    try:  # two processes, as two workers or two machines behind one proxy: only the shared cache joins them
        statuses = [login_attempt(server.port, "wrong password") for server in (first, second, first, second)]
        after = [login_attempt(server.port, "Correct-Horse-Battery-42") for server in (first, second)]
        colleague = [
            login_attempt(server.port, "Correct-Horse-Battery-43", "colleague@example.fr") for server in (first, second)
        ]
    finally:
        first.stop()
        second.stop()
    assert statuses[:3] == [400, 400, 400], first.logs() + second.logs()
    assert statuses[3] == 429 and after == [429, 429]  # locked everywhere, even with the right password
    assert colleague == [302, 302]  # the same address, another account: not locked
