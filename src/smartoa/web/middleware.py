"""The two-step login, enforced for every page: nothing but the login steps is reachable before the password and
the TOTP code (operators included: the admin and the back office sit behind it too).

The steps, in order: log in with the password (``login``); change a provisional password (``first_password``);
enrol an authenticator (``enrol``); give the current code (``verify``). A signed-in account that has a step left
is sent to it; an anonymous visitor is sent to the login page, except on the public pages (login, forgotten
password, lost authenticator, language). The API (token authentication) and static files are not concerned.
The page of the link that confirms a contract's extra e-mail address is open to everyone, signed in or not (the
mailbox has no account): the link's token is its only key.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme

from smartoa.accounts.security import has_second_factor

# Reachable without an account: the login page, the forgotten password, the lost authenticator, the language.
PUBLIC = ("/connexion/", "/connexion/oubli/", "/connexion/appareil-perdu/", "/langue/")
NOT_CONCERNED = ("/api/", "/static/", "/favicon.ico")
STEP_URLS = {  # each login step's page: URL names, no password  # nosec B105
    "first_password": "web:first-password",
    "enrol": "web:enrol",
    "verify": "web:verify",
}
ALWAYS_OPEN = ("/deconnexion/", "/langue/")
# Reachable by anyone, whatever their login step: only the confirmation page of an extra address (its URL ends
# with the link's token; nothing else is routed under this prefix).
OPEN_TO_ALL = "/notifications/confirmer/"


def next_step(request) -> str | None:
    """The login step the signed-in account still has to pass, or None."""
    user = request.user
    if user.must_change_password:
        return "first_password"
    if not user.is_verified():
        return "enrol" if not has_second_factor(user) else "verify"
    return None


class TwoStepLoginMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith(NOT_CONCERNED) or path.startswith(OPEN_TO_ALL):
            return self.get_response(request)
        user = request.user
        if not user.is_authenticated:
            if path in PUBLIC or path.startswith("/connexion/oubli/"):
                return self.get_response(request)
            login = reverse("web:login")
            if request.headers.get("HX-Request"):
                # A page refreshing part of itself after its session ended: the whole page goes to the login,
                # then back to that page (not to the fragment it asked for).
                shown = urlsplit(request.headers.get("HX-Current-URL", ""))
                back = shown.path + (f"?{shown.query}" if shown.query else "")
                if back and back != "/" and url_has_allowed_host_and_scheme(back, None):
                    login += "?" + urlencode({"next": back})
                return HttpResponse(status=204, headers={"HX-Redirect": login})
            if request.method == "GET" and path != "/":
                login += "?" + urlencode({"next": request.get_full_path()})
            return redirect(login)
        step = next_step(request)
        if step is None or path.startswith(ALWAYS_OPEN) or path == reverse(STEP_URLS[step]):
            return self.get_response(request)
        return redirect(STEP_URLS[step])


class AccountLanguageMiddleware:
    """A signed-in account sees the site in its language (``User.language``), whatever the browser asks."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = getattr(request.user, "language", None)
        if language and language in dict(settings.LANGUAGES):
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if language:
            response.headers.setdefault("Content-Language", language)
        return response
