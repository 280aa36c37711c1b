"""The login, for every account (operators included): password, then the TOTP code; at the first login a new
password and the enrolment of an authenticator, with one-time backup codes. Also: logout, the forgotten password
(by e-mail, through the outbox; the code is still asked at the next login), the lost authenticator (through the
operator), language.

The e-mail address is the account's in any case ("Producteur@Example.FR" logs in as producteur@example.fr). Views
only read the request and call ``accounts/security.py``; every event is audited there or here with the address.
The order of the steps is enforced for every page by ``web/middleware.py``; the lockout after failed
passwords is django-axes' (``web/lockout.py``).
"""

from __future__ import annotations

from functools import partial

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login
from django_ratelimit.core import is_ratelimited

from smartoa.accounts.jobs import queue_password_reset
from smartoa.accounts.security import (
    base32_secret,
    confirm_totp,
    login_refused,
    login_succeeded,
    new_backup_codes,
    new_secret,
    provisioning_uri,
    set_password,
    verify_second_factor,
)
from smartoa.accounts.services import end_other_sessions, provisional_expired
from smartoa.accounts.sessions import mark_signed_in
from smartoa.audit.services import record
from smartoa.core.addresses import client_ip
from smartoa.core.clock import now
from smartoa.core.formats import moment_text
from smartoa.domain.errors import UserError
from smartoa.web.context import home_of
from smartoa.web.messages import user_message
from smartoa.web.passwords import FirstPasswordForm

NEXT = "login_next"  # the page asked for before the login, kept in the session until the code is given
SECRET = "totp_enrolment_secret"  # noqa: S105 - the session key of the secret being enrolled  # nosec B105
CODES = "backup_codes_to_show"  # the backup codes just issued, shown once


def _next_url(request) -> str:
    target = request.session.pop(NEXT, "") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return home_of(request)


class LoginForm(AuthenticationForm):
    username = forms.EmailField(label=gettext_lazy("Adresse e-mail"), max_length=254)
    password = forms.CharField(label=gettext_lazy("Mot de passe"), strip=False, widget=forms.PasswordInput)

    error_messages = {
        "invalid_login": gettext_lazy("Adresse e-mail ou mot de passe incorrect."),
        "inactive": gettext_lazy("Adresse e-mail ou mot de passe incorrect."),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update(autocomplete="username", autofocus=True)
        self.fields["password"].widget.attrs.update(autocomplete="current-password")

    def confirm_login_allowed(self, user):
        """The right password, but a provisional one whose time ran out: say so (the person proved they hold
        it) and point to the forgotten-password link, which gives a new one."""
        super().confirm_login_allowed(user)
        if provisional_expired(user):
            raise forms.ValidationError(
                _(
                    "Ce mot de passe provisoire n'est plus valable depuis le %(at)s. Demandez-en un nouveau avec "
                    "« Mot de passe oublié ? » ci-dessous."
                )
                % {"at": moment_text(user.provisional_until)},
                code="provisional_expired",
            )

    def clean_username(self) -> str:
        """The address lower-cased: accounts are stored so, whatever case is typed."""
        return self.cleaned_data["username"].lower()


def signed_in(request, user) -> None:
    """The account has given its password and its code: note when and from where in its session (listed on
    "Mon compte") and audit the login."""
    ip = client_ip(request)
    mark_signed_in(request.session, at=now(), ip=ip)
    login_succeeded(user, ip=ip)


def locked_out(request, response=None, credentials=None) -> HttpResponse:
    """django-axes' answer once an account or an address is locked out: the login page saying so (429)."""
    form = LoginForm(request, data=None)
    minutes = settings.SMARTOA_LOCKOUT_MINUTES
    context = {"form": form, "locked": True, "minutes": minutes}
    return render(request, "web/auth/login.html", context, status=429)


@method_decorator([sensitive_post_parameters("password"), never_cache], name="dispatch")
class LoginView(View):
    """Step 1: the e-mail address and the password."""

    def get(self, request):
        if request.user.is_authenticated:
            return redirect(home_of(request))
        if (target := request.GET.get("next")) and url_has_allowed_host_and_scheme(target, {request.get_host()}):
            request.session[NEXT] = target
        return render(request, "web/auth/login.html", {"form": LoginForm(request)})

    def post(self, request):
        form = LoginForm(request, data=request.POST)
        ip = client_ip(request)
        if form.is_valid():
            user = form.get_user()
            target = request.session.get(NEXT)
            login(request, user)  # a new session: nothing of the anonymous one carries over
            if target:
                request.session[NEXT] = target
            record("login.password_ok", actor=user.email, user=user, ip=ip)
            return redirect("web:verify")  # the middleware sends a first login to its steps instead
        locked = getattr(request, "axes_locked_out", False)
        login_refused(request.POST.get("username", ""), ip=ip, locked=locked)
        if locked:
            return locked_out(request)
        return render(request, "web/auth/login.html", {"form": form}, status=400)


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code à 6 chiffres de votre application (ou un code de secours)"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class EnrolCodeForm(CodeForm):
    code = forms.CharField(
        label=gettext_lazy("Code à 6 chiffres affiché par l'application"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


@method_decorator(never_cache, name="dispatch")
class VerifyView(View):
    """Step 2 of every login: the current code of the authenticator, or a backup code."""

    def get(self, request):
        return render(request, "web/auth/verify.html", {"form": CodeForm()})

    def post(self, request):
        form = CodeForm(request.POST)
        if not form.is_valid():
            return render(request, "web/auth/verify.html", {"form": form}, status=400)
        result = verify_second_factor(request.user, form.cleaned_data["code"], ip=client_ip(request))
        if not result.ok:
            if result.wait_seconds:
                error = _("Trop d'essais : attendez %(n)s secondes avant de réessayer.") % {"n": result.wait_seconds}
            else:
                error = _("Code incorrect ou déjà utilisé.")
            form.add_error("code", error)
            return render(request, "web/auth/verify.html", {"form": form}, status=429 if result.wait_seconds else 400)
        otp_login(request, result.device)
        request.session.cycle_key()  # a new session key once the account is fully authenticated
        signed_in(request, request.user)
        if result.backup_codes_left is not None:
            messages.warning(
                request,
                _("Code de secours utilisé : il vous en reste %(n)s. Générez-en de nouveaux depuis votre compte.")
                % {"n": result.backup_codes_left},
            )
        return HttpResponseRedirect(_next_url(request))


def save_new_password(request, form) -> bool:
    """Set the valid password form's new password through the service (checked and audited) and keep the session
    signed in, ending the account's other sessions (the old password no longer holds them); False, with the
    refusal on the form, when the service refuses it."""
    ip = client_ip(request)
    try:
        with transaction.atomic():
            set_password(request.user, form.cleaned_data["new_password1"], ip=ip)
            end_other_sessions(request.user, keep=request.session.session_key, ip=ip)
    except UserError as exc:
        form.add_error("new_password1", user_message(exc))
        return False
    update_session_auth_hash(request, request.user)
    return True


@method_decorator([sensitive_post_parameters(), never_cache], name="dispatch")
class FirstPasswordView(View):
    """First login, step 1: replace the provisional password."""

    def get(self, request):
        return render(request, "web/auth/first_password.html", {"form": FirstPasswordForm(request.user)})

    def post(self, request):
        form = FirstPasswordForm(request.user, request.POST)
        if form.is_valid() and save_new_password(request, form):
            return redirect("web:enrol")
        return render(request, "web/auth/first_password.html", {"form": form}, status=400)


@method_decorator(never_cache, name="dispatch")
class EnrolView(View):
    """First login, step 2: scan the QR code (or type the secret) in an authenticator app, then give a code."""

    def context(self, request, form):
        secret = request.session.get(SECRET) or new_secret()
        request.session[SECRET] = secret
        uri = provisioning_uri(request.user, secret)
        # A viewBox and no fixed size: the stylesheet scales the whole code (its three finder patterns and its
        # quiet zone) to the width it is given, on a phone as on a desktop.
        qr = segno.make(uri, error="m").svg_inline(
            omitsize=True, svgclass="qr-code", title=_("QR code à scanner avec votre application")
        )
        # segno's SVG is built from the URI alone (base32 and quoted text): nothing in it to escape.
        svg = mark_safe(qr)  # noqa: S308  # nosec B308 B703
        return {"form": form, "qr": svg, "secret": base32_secret(secret), "uri": uri}

    def get(self, request):
        return render(request, "web/auth/enrol.html", self.context(request, EnrolCodeForm()))

    def post(self, request):
        form = EnrolCodeForm(request.POST)
        secret = request.session.get(SECRET)
        if form.is_valid() and secret:
            ip = client_ip(request)
            try:
                with transaction.atomic():
                    device = confirm_totp(request.user, secret, form.cleaned_data["code"], ip=ip)
                    codes = new_backup_codes(request.user, ip=ip)
            except UserError as exc:
                form.add_error("code", user_message(exc))
            else:
                del request.session[SECRET]
                otp_login(request, device)
                request.session.cycle_key()
                signed_in(request, request.user)
                request.session[CODES] = codes
                return redirect("web:backup-codes")
        return render(request, "web/auth/enrol.html", self.context(request, form), status=400)


class BackupCodesView(View):
    """The backup codes just issued, shown once (after enrolment, or from the account page)."""

    def get(self, request):
        codes = request.session.pop(CODES, None)
        if not codes:
            return redirect(home_of(request))
        response = render(request, "web/auth/backup_codes.html", {"codes": codes, "next": _next_url(request)})
        response["Cache-Control"] = "no-store"
        return response


class LogoutView(View):
    def post(self, request):
        if request.user.is_authenticated:
            record("logout", actor=request.user.email, user=request.user, ip=client_ip(request))
        logout(request)
        return redirect("web:login")

    def get(self, request):  # a link cannot log out (CSRF): show the button
        return render(request, "web/auth/logout.html")


class LostDeviceView(View):
    def get(self, request):
        return render(request, "web/auth/lost_device.html", {"support": settings.SMARTOA_SUPPORT_EMAIL})


# --- forgotten password -----------------------------------------------------------------------------------


class ResetForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("Adresse e-mail"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class ResetRequestView(auth_views.PasswordResetView):
    """The forgotten password: a link by e-mail, through the outbox (retried while the mail server is down). The
    page answers the same, after the same work, whether or not the address has an account: it records the
    request and queues the e-mail's job (``accounts/jobs.py``), which looks the account up. At most a few
    requests an hour per address. The code is still asked at the next login."""

    template_name = "web/auth/reset_request.html"
    form_class = ResetForm
    success_url = reverse_lazy("web:reset-sent")

    def form_valid(self, form):
        ip = client_ip(self.request)
        if is_ratelimited(self.request, group="password-reset", key=lambda g, r: ip or "", rate="5/h", increment=True):
            record("password.reset_throttled", actor="anonymous", ip=ip)
            return redirect(self.success_url)
        email = form.cleaned_data["email"].lower()
        with transaction.atomic():
            record("password.reset_requested", actor=email, ip=ip)
            transaction.on_commit(partial(queue_password_reset, email, ip))
        return redirect(self.success_url)


class ResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "web/auth/reset_confirm.html"
    form_class = FirstPasswordForm
    success_url = reverse_lazy("web:reset-done")
    post_reset_login = False  # the next login asks for the password and the code

    def form_valid(self, form):
        ip = client_ip(self.request)
        try:
            with transaction.atomic():
                set_password(form.user, form.cleaned_data["new_password1"], ip=ip, reason="reset")
                end_other_sessions(form.user, keep=None, ip=ip)  # every session of the account ends
        except UserError as exc:
            form.add_error("new_password1", user_message(exc))
            return self.form_invalid(form)
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        return HttpResponseRedirect(self.get_success_url())
