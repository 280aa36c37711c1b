"""The second factor and the password: TOTP enrolment, verification (replay refused, failures throttled), one-time
backup codes, password changes, the forgotten password's e-mail, the audit of logins, and the operator's reset of
a lost device. Every event is audited with the account and the address.

The authenticator is django-otp's ``TOTPDevice`` (its key must be readable to compute codes). Backup codes are
``BackupCode`` rows holding only an HMAC of the code keyed with the secret key: a copy of the database alone does
not give them away, and checking one is a single indexed lookup. A verification is its own unit of work: it
locks the account's authenticator so that two simultaneous uses of one code cannot both succeed, and its failure
(and the throttling it adds, django-otp's exponential back-off) is committed even though the caller then
refuses the request.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_noop as _
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from smartoa.accounts.addresses import MAX_EMAIL
from smartoa.accounts.models import BackupCode, User
from smartoa.accounts.services import PROVISIONAL_FIELDS, give_provisional_password, send_login
from smartoa.audit.services import record
from smartoa.core.clock import now
from smartoa.domain.errors import Conflict, InvalidInput
from smartoa.notifications import outbox

BACKUP_CODES = 10
BACKUP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read from paper without doubt
BACKUP_LENGTH = 12  # ≈ 59 bits
SECRET_BYTES = 20  # 160 bits, the RFC 4226 recommendation
DEVICE_NAME = "authenticator"


# --- password ---------------------------------------------------------------------------------------------


class PasswordRefused(InvalidInput):
    """A new password the password validators refuse. Their messages are Django's own, already translated into the
    language active when validating (a page's; the pages' forms run the same validators first and show each message
    under its field), and kept as they are under this error's translated template."""

    def __init__(self, messages: list[str]):
        self.messages = [str(message) for message in messages]
        super().__init__(_("this password is refused: %(problems)s"), problems=" ".join(self.messages))


def set_password(user: User, new_password: str, *, ip: str | None, reason: str = "changed") -> None:
    """Give ``user`` a new password that passes the validators (PasswordRefused listing what fails); it is no
    longer provisional."""
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise PasswordRefused(exc.messages) from None
    user.set_password(new_password)
    user.must_change_password = False
    user.provisional_until = None
    user.save(update_fields=PROVISIONAL_FIELDS)
    record(f"password.{reason}", actor=user.email, user=user, ip=ip)


def send_password_reset(email: str, *, ip: str | None) -> bool:
    """E-mail the active account of ``email`` (in any case) a one-time link to choose a new password, through the
    outbox (sensitive: the link is erased once delivered); nothing for an address without such an account.
    Returns whether an e-mail was written. The forgotten-password page queues this (``accounts/jobs.py``) rather
    than calling it, so that its answer takes the same time whether or not the account exists."""
    user = User.objects.filter(email=email.strip().lower(), is_active=True).first()
    if user is None or not user.has_usable_password():
        return False
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    outbox.password_reset_email(user, uid=uid, token=default_token_generator.make_token(user))
    record("password.reset_emailed", actor=user.email, user=user, ip=ip)
    return True


# --- login events -----------------------------------------------------------------------------------------

NOT_AN_EMAIL = "(not an e-mail address)"
# The events of an account's logins, as "Mon compte" lists them.
LOGIN_EVENTS = ("login.succeeded", "login.failed", "login.locked_out", "totp.failed")


def typed_login(text: object) -> str:
    """What was typed in a login's e-mail field, as the audit log may keep it: lower-cased when it has the shape
    of an e-mail address, else ``NOT_AN_EMAIL`` (a password or a backup code typed in the wrong field must not
    reach the log)."""
    candidate = text.strip().lower() if isinstance(text, str) else ""
    if not candidate or len(candidate) > MAX_EMAIL or not candidate.isprintable():
        return NOT_AN_EMAIL
    try:
        validate_email(candidate)
    except ValidationError:
        return NOT_AN_EMAIL
    return candidate


def login_refused(typed: object, *, ip: str | None, locked: bool) -> None:
    """Audit a refused password step: ``login.locked_out`` when the lockout refused it, else ``login.failed``;
    the actor is what was typed (``typed_login``), and the account it names when there is one (its owner sees
    it among its logins)."""
    email = typed_login(typed)
    user = User.objects.filter(email=email).values_list("pk", flat=True).first() if email != NOT_AN_EMAIL else None
    record("login.locked_out" if locked else "login.failed", actor=email, user=user, ip=ip)


def login_succeeded(user: User, *, ip: str | None) -> None:
    """Audit a completed login (password, then the code or the enrolment of an authenticator)."""
    record("login.succeeded", actor=user.email, user=user, ip=ip)


# --- TOTP enrolment ---------------------------------------------------------------------------------------


def new_secret() -> str:
    """A new TOTP secret, hex-encoded as django-otp stores it (kept in the session until confirmed)."""
    return secrets.token_hex(SECRET_BYTES)


def base32_secret(hex_key: str) -> str:
    """The secret as authenticator apps take it when typed (base32, grouped by 4)."""
    text = base64.b32encode(bytes.fromhex(hex_key)).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def provisioning_uri(user: User, hex_key: str) -> str:
    """The otpauth:// URI of the QR code."""
    secret = base64.b32encode(bytes.fromhex(hex_key)).decode().rstrip("=")
    issuer = settings.OTP_TOTP_ISSUER
    label = quote(f"{issuer}:{user.email}")
    return f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer)}&algorithm=SHA1&digits=6&period=30"


def _code(text: str) -> int | None:
    digits = "".join(text.split()) if isinstance(text, str) else ""
    return int(digits) if digits.isdigit() and len(digits) == 6 else None


def confirm_totp(user: User, hex_key: str, code: str, *, ip: str | None) -> TOTPDevice:
    """Enrol the authenticator whose secret is ``hex_key`` once ``code`` proves it works: the account's
    previous devices are replaced. InvalidInput when the code does not match."""
    token = _code(code)
    totp = TOTP(bytes.fromhex(hex_key), step=30, digits=6)
    if token is None or not totp.verify(token, tolerance=settings.OTP_TOTP_TOLERANCE):
        record("totp.enrolment_failed", actor=user.email, user=user, ip=ip)
        raise InvalidInput(_("this code does not match: check the time of your phone and type the current code"))
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(
        user=user, name=DEVICE_NAME, key=hex_key, confirmed=True, last_t=totp.t(), tolerance=1
    )
    record("totp.enrolled", actor=user.email, user=user, ip=ip)
    return device


def _backup_hash(code: str) -> str:
    return salted_hmac("smartoa.accounts.backup-code", code, algorithm="sha256").hexdigest()


def _backup_shape(text: str) -> str | None:
    """A typed backup code in its stored form (lower case, no spaces or dashes), or None if it cannot be one."""
    code = "".join(ch for ch in text.lower() if ch not in " -") if isinstance(text, str) else ""
    return code if len(code) == BACKUP_LENGTH and all(ch in BACKUP_ALPHABET for ch in code) else None


def new_backup_codes(user: User, *, ip: str | None) -> list[str]:
    """Replace the account's backup codes by ``BACKUP_CODES`` new ones, each usable once; returns them, written
    ``xxxx-xxxx-xxxx`` (shown once; only their keyed hash is stored)."""
    user.backup_codes.all().delete()
    codes = ["".join(secrets.choice(BACKUP_ALPHABET) for _ in range(BACKUP_LENGTH)) for _ in range(BACKUP_CODES)]
    moment = now()
    BackupCode.objects.bulk_create(
        [BackupCode(user=user, code_hash=_backup_hash(code), created_at=moment) for code in codes]
    )
    record("totp.backup_codes_issued", actor=user.email, user=user, ip=ip, count=len(codes))
    return ["-".join(code[i : i + 4] for i in range(0, BACKUP_LENGTH, 4)) for code in codes]


def backup_codes_left(user: User) -> int:
    return user.backup_codes.filter(used_at__isnull=True).count()


def has_second_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


# --- verification -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    device: TOTPDevice | None  # the device to mark the session verified with, when the code was right
    wait_seconds: int = 0  # > 0: refused without trying, failures are being throttled
    backup_codes_left: int | None = None  # after a backup code was used

    @property
    def ok(self) -> bool:
        return self.device is not None


def verify_second_factor(user: User, code: str, *, ip: str | None) -> Verification:
    """Check ``code``: six digits against the account's authenticator (a code already used is refused), or one of
    its unused backup codes (each works once). Failures slow further tries down. Committed at once, success or
    failure (see the module docstring)."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        if device is None:
            record("totp.failed", actor=user.email, user=user, ip=ip, reason="no authenticator")
            return Verification(None)
        allowed, data = device.verify_is_allowed()
        if not allowed:
            wait = _wait_seconds(data)
            record("totp.throttled", actor=user.email, user=user, ip=ip, wait_seconds=wait)
            return Verification(None, wait)
        if (token := _code(code)) is not None:
            if device.verify_token(token):  # counts its own failure
                record("totp.verified", actor=user.email, user=user, ip=ip)
                return Verification(device)
        elif (backup := _backup_shape(code)) is not None:
            used = BackupCode.objects.filter(user=user, code_hash=_backup_hash(backup), used_at__isnull=True).update(
                used_at=now()
            )
            if used:
                device.throttle_reset()
                left = backup_codes_left(user)
                record("totp.backup_code_used", actor=user.email, user=user, ip=ip, codes_left=left)
                return Verification(device, backup_codes_left=left)
            device.throttle_increment()
        else:
            device.throttle_increment()
        record("totp.failed", actor=user.email, user=user, ip=ip)
        return Verification(None)


def _wait_seconds(data: dict | None) -> int:
    until = (data or {}).get("locked_until")
    if until is None:
        return 1
    return max(1, int((until - timezone.now()).total_seconds() + 0.999))


# --- the operator's reset of a lost device ------------------------------------------------------------------


def reset_second_factor(user: User, *, actor: str) -> None:
    """For a user who lost their authenticator: remove their devices and backup codes and give them a new
    provisional password by e-mail (after commit), so that they enrol again at their next login."""
    if not user.is_active:
        raise Conflict(_("%(email)s is deactivated: activate it first"), email=user.email)
    TOTPDevice.objects.filter(user=user).delete()
    user.backup_codes.all().delete()
    password = give_provisional_password(user)
    user.save(update_fields=PROVISIONAL_FIELDS)
    record("totp.reset", actor=actor, user=user)
    send_login(user, password, reason="reset")
