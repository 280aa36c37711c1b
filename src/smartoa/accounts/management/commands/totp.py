"""``smartoa totp code EMAIL`` (test environment only): the account's current TOTP code, to try the portal without
a phone. ``smartoa totp reset EMAIL``: the operator's reset of a lost authenticator (any environment)."""

import time

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_noop
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from smartoa.accounts.models import User
from smartoa.accounts.security import reset_second_factor
from smartoa.core.management.base import CLI_ACTOR, ActionCommand
from smartoa.domain.errors import Conflict, NotFound


def account(email: str) -> User:
    user = User.objects.filter(email=email.strip().lower()).first()
    if user is None:
        raise NotFound(gettext_noop("no account %(email)r"), email=email[:100])
    return user


class Command(ActionCommand):
    help = "Second factor: print an account's current code (test environment only), or reset a lost one."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("code", help="print the current TOTP code of an account (refused in production)").add_argument(
            "email"
        )
        sub.add_parser(
            "reset", help="remove an account's authenticator and backup codes; e-mail a new provisional password"
        ).add_argument("email")

    def do_code(self, email, **options):
        if settings.PRODUCTION:
            raise Conflict(gettext_noop("refused in production: codes come from the account's own authenticator"))
        device = TOTPDevice.objects.filter(user=account(email), confirmed=True).first()
        if device is None:
            raise NotFound(gettext_noop("%(email)s has no authenticator yet (first login not finished)"), email=email)
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        if totp.t() <= device.last_t:  # this step's code was used (a code works once): the next one works now
            totp.time = time.time() + device.step * (device.last_t + 1 - totp.t())
        self.stdout.write(f"{totp.token():0{device.digits}d}")

    def do_reset(self, email, **options):
        with transaction.atomic():
            reset_second_factor(account(email), actor=CLI_ACTOR)
        self.stdout.write(f"{email}: second factor reset; a provisional password was e-mailed")
