"""The one settings module: everything is read from the environment (see docs and INTERFACES.md).

``SMARTOA_ENV`` defaults to ``production``, which refuses to start with an insecure configuration: a missing or
default secret key, debug on, no or wildcard allowed hosts, or a frozen clock (``SMARTOA_NOW``). Nonsensical values
(an unparsable proxy address, a zero token lifetime, …) are refused in every environment. Importing this module
creates no file or folder.
"""

from __future__ import annotations

import math
import os
import re
from datetime import datetime, time, timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from smartoa.contracts.ips import InvalidAddress, parse_ip

INSECURE_SECRET_KEYS = {"", "change-me", "changeme", "secret", "dev", "insecure-test-key"}
DEFAULT_TEST_SECRET_KEY = "insecure-test-key"  # noqa: S105 - test environment only, refused in production  # nosec B105


def _env(name: str, default: str = "") -> str:
    """The variable's value, stripped; ``default`` when it is unset or empty."""
    return os.environ.get(name, "").strip() or default


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in _env(name).split(",") if item.strip()]


def _env_bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if not raw:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def _check_range(name: str, value, minimum, maximum, *, above: bool = False):
    if minimum is not None and (value <= minimum if above else value < minimum):
        raise ImproperlyConfigured(f"{name} must be {'above' if above else 'at least'} {minimum}, not {value}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, not {value}")
    return value


def _env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = _env(name)
    try:
        value = int(raw) if raw else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from exc
    return _check_range(name, value, minimum, maximum)


def _env_float(
    name: str, default: float, *, minimum: float | None = None, maximum: float | None = None, above: bool = False
) -> float:
    """A finite number (``nan`` and ``inf`` are refused); ``above``: strictly greater than ``minimum``."""
    raw = _env(name)
    try:
        value = float(raw) if raw else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from exc
    if not math.isfinite(value):
        raise ImproperlyConfigured(f"{name} must be a finite number, not {raw!r}")
    return _check_range(name, value, minimum, maximum, above=above)


def _env_time(name: str, default: str) -> time:
    raw = _env(name, default)
    try:
        return time.fromisoformat(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a time HH:MM, not {raw!r}") from exc


# --- environment -------------------------------------------------------------------------------------

# Fails closed: without SMARTOA_ENV the platform is in production, with every production check.
SMARTOA_ENV = _env("SMARTOA_ENV", "production")
if SMARTOA_ENV not in {"test", "production"}:
    raise ImproperlyConfigured(f"SMARTOA_ENV must be 'test' or 'production', not {SMARTOA_ENV!r}")
PRODUCTION = SMARTOA_ENV == "production"

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(_env("SMARTOA_DATA_DIR", str(Path.cwd() / "var"))).resolve()

SECRET_KEY = _env("SMARTOA_SECRET_KEY", "" if PRODUCTION else DEFAULT_TEST_SECRET_KEY)
DEBUG = _env_bool("SMARTOA_DEBUG", False)
ALLOWED_HOSTS = _env_list("SMARTOA_ALLOWED_HOSTS") or ([] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]"])
BASE_URL = _env("SMARTOA_BASE_URL", "http://localhost:8000").rstrip("/")

# The platform clock: frozen by SMARTOA_NOW, in the test environment only.
SMARTOA_NOW: datetime | None = None
if _env("SMARTOA_NOW"):
    try:
        SMARTOA_NOW = datetime.fromisoformat(_env("SMARTOA_NOW"))
    except ValueError as exc:
        raise ImproperlyConfigured(f"SMARTOA_NOW must be an ISO date-time with offset: {exc}") from exc
    if SMARTOA_NOW.utcoffset() is None:
        raise ImproperlyConfigured("SMARTOA_NOW must carry a UTC offset, e.g. 2025-09-21T12:55:05+02:00")

if PRODUCTION:
    problems = []
    if SECRET_KEY in INSECURE_SECRET_KEYS or len(SECRET_KEY) < 32:
        problems.append("SMARTOA_SECRET_KEY is missing, a known default, or shorter than 32 characters")
    if DEBUG:
        problems.append("SMARTOA_DEBUG is on")
    if not ALLOWED_HOSTS:
        problems.append("SMARTOA_ALLOWED_HOSTS is empty")
    if wildcards := [host for host in ALLOWED_HOSTS if "*" in host or host.startswith(".")]:
        problems.append(
            f"SMARTOA_ALLOWED_HOSTS has wildcard entries {', '.join(wildcards)} (list each host name served)"
        )
    if SMARTOA_NOW is not None:
        problems.append("SMARTOA_NOW is set (the clock can only be frozen in the test environment)")
    if problems:
        raise ImproperlyConfigured("refusing to start in production: " + "; ".join(problems))

# --- business parameters (PRODUCT.md §10: open points kept as settings) --------------------------------


def _trusted_proxies() -> frozenset[str]:
    """Each entry one IP address, stored as ``contracts.ips.client_ip`` compares them (canonical text)."""
    proxies = set()
    for entry in _env_list("SMARTOA_TRUSTED_PROXIES"):
        try:
            proxies.add(parse_ip(entry).compressed)
        except InvalidAddress as exc:
            raise ImproperlyConfigured(f"SMARTOA_TRUSTED_PROXIES: {exc}") from None
    return frozenset(proxies)


SMARTOA_TRUSTED_PROXIES = _trusted_proxies()
SMARTOA_TOKEN_LIFETIME_DAYS = _env_int("SMARTOA_TOKEN_LIFETIME_DAYS", 183, minimum=1, maximum=3660)
SMARTOA_HLAR_DEFAULT = _env_time("SMARTOA_HLAR_DEFAULT", "16:30")
SMARTOA_MODIFICATION_CUTOFF_MINUTES = _env_int("SMARTOA_MODIFICATION_CUTOFF_MINUTES", 30, minimum=0, maximum=1440)
SMARTOA_PRICE_THRESHOLD = _env_float("SMARTOA_PRICE_THRESHOLD", 0.0)
SMARTOA_TOLERANCE_KWH = _env_float("SMARTOA_TOLERANCE_KWH", 0.0, minimum=0)
SMARTOA_TOLERANCE_PERCENT = _env_float("SMARTOA_TOLERANCE_PERCENT", 0.0, minimum=0, maximum=100)
SMARTOA_CURVE_MAX_RATIO = _env_float("SMARTOA_CURVE_MAX_RATIO", 1.5, minimum=1, maximum=100)
SMARTOA_HISTORY_MAX_DAYS = _env_int("SMARTOA_HISTORY_MAX_DAYS", 366, minimum=1, maximum=36525)
# Test consignes a contract may ask the sandbox for per hour (test environment only: each one creates a version).
SMARTOA_SANDBOX_PER_HOUR = _env_int("SMARTOA_SANDBOX_PER_HOUR", 10, minimum=1, maximum=1000)
# Portal security: idle sessions end; repeated login failures lock the account that failed for a while, and an
# address only after many more failures across accounts (colleagues behind one company NAT do not lock each other).
SMARTOA_SESSION_IDLE_MINUTES = _env_int("SMARTOA_SESSION_IDLE_MINUTES", 30, minimum=5, maximum=24 * 60)
SMARTOA_LOGIN_FAILURES = _env_int("SMARTOA_LOGIN_FAILURES", 5, minimum=3, maximum=100)
SMARTOA_LOGIN_FAILURES_PER_ADDRESS = _env_int(
    "SMARTOA_LOGIN_FAILURES_PER_ADDRESS", 10 * SMARTOA_LOGIN_FAILURES, minimum=SMARTOA_LOGIN_FAILURES, maximum=100_000
)
SMARTOA_LOCKOUT_MINUTES = _env_int("SMARTOA_LOCKOUT_MINUTES", 15, minimum=1, maximum=24 * 60)
# How long the provisional password of a new account (or of a reset second factor) works: the first login must
# happen within it (the e-mail says until when); after it, the forgotten-password link gives a new one.
SMARTOA_PROVISIONAL_PASSWORD_DAYS = _env_int("SMARTOA_PROVISIONAL_PASSWORD_DAYS", 14, minimum=1, maximum=90)
# Where a producer who lost their authenticator (or has any access problem) writes to (the source's address).
SMARTOA_SUPPORT_EMAIL = _env("SMARTOA_SUPPORT_EMAIL", "smart-oa-contact-technique@edf.fr")
SMARTOA_WORKERS = _env_int("SMARTOA_WORKERS", 2, minimum=1)
SMARTOA_THREADS = _env_int("SMARTOA_THREADS", 4, minimum=1)

# --- jobs and notifications (jobs/, notifications/) -----------------------------------------------------


def _jobs_url() -> str:
    """Where the task engine keeps its queue: empty (a SQLite file in the data folder), sqlite:///FILE,
    redis://… or postgres://… (several machines share one queue)."""
    url = _env("SMARTOA_JOBS_URL")
    if url and not url.startswith(("sqlite:///", "redis://", "rediss://", "postgres://", "postgresql://")):
        raise ImproperlyConfigured(
            "SMARTOA_JOBS_URL must be empty (a SQLite file in SMARTOA_DATA_DIR), sqlite:///FILE, redis://host:port/db "
            "or postgres://user@host:port/name"
        )
    return url


def _operator_emails() -> list[str]:
    from django.core.validators import validate_email

    emails = [email.lower() for email in _env_list("SMARTOA_OPERATOR_EMAILS")]
    for email in emails:
        try:
            validate_email(email)
        except Exception:  # noqa: BLE001 - Django's ValidationError: any refusal is a configuration error
            raise ImproperlyConfigured(f"SMARTOA_OPERATOR_EMAILS: {email!r} is not an e-mail address") from None
    return emails


def _warning_days() -> tuple[int, ...]:
    raw = _env_list("SMARTOA_TOKEN_WARNING_DAYS") or ["30", "7"]
    try:
        days = sorted({int(item) for item in raw}, reverse=True)
    except ValueError:
        raise ImproperlyConfigured(f"SMARTOA_TOKEN_WARNING_DAYS must be whole days such as 30,7, not {raw!r}") from None
    if not all(1 <= day <= 3660 for day in days):
        raise ImproperlyConfigured("SMARTOA_TOKEN_WARNING_DAYS: each number of days must be between 1 and 3660")
    return tuple(days)


SMARTOA_JOBS_URL = _jobs_url()
# Acknowledgment reminders are e-mailed this long before each day's HLAR (to the contracts not acknowledged).
SMARTOA_REMINDER_MINUTES = _env_int("SMARTOA_REMINDER_MINUTES", 120, minimum=1, maximum=24 * 60)
# Who gets the operators' warning at HLAR (the contracts that did not acknowledge): these addresses, else every
# active staff account.
SMARTOA_OPERATOR_EMAILS = _operator_emails()
# Token-expiry warnings to the contract's accounts, this many days before the token expires (once each).
SMARTOA_TOKEN_WARNING_DAYS = _warning_days()
# Outbox delivery: tries per message before it is marked failed, the first retry delay (doubled at each try, at
# most 6 hours), and the lease after which a message claimed by a worker that died is taken by another.
SMARTOA_OUTBOX_MAX_ATTEMPTS = _env_int("SMARTOA_OUTBOX_MAX_ATTEMPTS", 10, minimum=1, maximum=50)
SMARTOA_OUTBOX_RETRY_SECONDS = _env_int("SMARTOA_OUTBOX_RETRY_SECONDS", 30, minimum=1, maximum=6 * 3600)
SMARTOA_OUTBOX_LEASE_SECONDS = _env_int("SMARTOA_OUTBOX_LEASE_SECONDS", 300, minimum=2, maximum=24 * 3600)
# Delivered and failed messages (the delivery log) and job-run records are deleted after these many days.
SMARTOA_OUTBOX_KEEP_DAYS = _env_int("SMARTOA_OUTBOX_KEEP_DAYS", 90, minimum=1, maximum=3660)
SMARTOA_JOB_RUNS_KEEP_DAYS = _env_int("SMARTOA_JOB_RUNS_KEEP_DAYS", 30, minimum=1, maximum=3660)
# Webhooks: seconds allowed per call (connect, send, answer), calls in flight at once per worker thread.
SMARTOA_WEBHOOK_TIMEOUT = _env_float("SMARTOA_WEBHOOK_TIMEOUT", 10.0, minimum=0, maximum=120, above=True)
SMARTOA_WEBHOOK_CONCURRENCY = _env_int("SMARTOA_WEBHOOK_CONCURRENCY", 32, minimum=1, maximum=256)
# How messages leave: "real" (e-mail through the mail backend, webhooks over HTTP) or "memory" (kept in a list, for
# tests of the outbox; test environment only).
SMARTOA_NOTIFICATION_SENDER = _env("SMARTOA_NOTIFICATION_SENDER", "real")
if SMARTOA_NOTIFICATION_SENDER not in {"real", "memory"}:
    raise ImproperlyConfigured(
        f"SMARTOA_NOTIFICATION_SENDER must be 'real' or 'memory', not {SMARTOA_NOTIFICATION_SENDER!r}"
    )
if PRODUCTION and SMARTOA_NOTIFICATION_SENDER != "real":
    raise ImproperlyConfigured("refusing to start in production: SMARTOA_NOTIFICATION_SENDER=memory sends nothing")

# The event stream (``smartoa stream``, GET /api/v1/events): a heartbeat comment every so many seconds, how often
# the embedded SQLite database's event table is read (PostgreSQL wakes the process by LISTEN/NOTIFY), its threads
# for database work, the open connections it accepts (more are answered 503), and where the web API sends
# clients asking /api/v1/events (a 307 to this base URL; empty: 503 there).
SMARTOA_STREAM_HEARTBEAT_SECONDS = _env_float(
    "SMARTOA_STREAM_HEARTBEAT_SECONDS", 30.0, minimum=0, maximum=3600, above=True
)
SMARTOA_STREAM_POLL_SECONDS = _env_float("SMARTOA_STREAM_POLL_SECONDS", 1.0, minimum=0, maximum=60, above=True)
SMARTOA_STREAM_DB_THREADS = _env_int("SMARTOA_STREAM_DB_THREADS", 4, minimum=1, maximum=64)
SMARTOA_STREAM_MAX_CONNECTIONS = _env_int("SMARTOA_STREAM_MAX_CONNECTIONS", 20000, minimum=1)
SMARTOA_STREAM_URL = _env("SMARTOA_STREAM_URL").rstrip("/")
if SMARTOA_STREAM_URL and not SMARTOA_STREAM_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"SMARTOA_STREAM_URL must be an http(s) URL, not {SMARTOA_STREAM_URL!r}")

# --- resilience: database limits of web processes, API rate limit --------------------------------------

# Seconds an API request may wait for the database (connecting, a lock) or take while using it before it is
# answered 503 with Retry-After (a request still running then has its connection cut: core/dbguard.py); other web
# pages get SMARTOA_DB_PAGE_TIMEOUT. The command line and jobs keep the longer limits below.
SMARTOA_DB_TIMEOUT = _env_float("SMARTOA_DB_TIMEOUT", 5.0, minimum=0, maximum=600, above=True)
SMARTOA_DB_PAGE_TIMEOUT = _env_float("SMARTOA_DB_PAGE_TIMEOUT", 60.0, minimum=0, maximum=3600, above=True)
# Failed API authentications (401/403) allowed per address (IPv6: per /64) before 429, in django-ratelimit's
# notation: "20/m" is 20 a minute. Only failures are counted: a request that authenticates never reaches the cache.
SMARTOA_API_FAILURE_RATE = _env("SMARTOA_API_FAILURE_RATE", "20/m")
if not re.fullmatch(r"[1-9]\d*/\d*[smhd]", SMARTOA_API_FAILURE_RATE):
    raise ImproperlyConfigured(
        f"SMARTOA_API_FAILURE_RATE must be COUNT/PERIOD such as 20/m or 100/5m, not {SMARTOA_API_FAILURE_RATE!r}"
    )

# --- health and metrics (core/probes.py, core/metrics.py) ------------------------------------------------


def _metrics_allowed() -> tuple:
    """The networks allowed to read /metrics: IP addresses or CIDR blocks; loopback only by default."""
    import ipaddress

    networks = []
    for entry in _env_list("SMARTOA_METRICS_ALLOWED") or ["127.0.0.1", "::1"]:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"SMARTOA_METRICS_ALLOWED: {entry!r} is not an IP address or a network such as 10.0.0.0/8"
            ) from None
    return tuple(networks)


SMARTOA_METRICS_ALLOWED = _metrics_allowed()
# Seconds of database time /readyz and /metrics may take before they answer (503 / without the database gauges).
SMARTOA_READY_TIMEOUT = _env_float("SMARTOA_READY_TIMEOUT", 2.0, minimum=0, maximum=60, above=True)

# --- Django --------------------------------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_htmx",
    "ninja",  # its templates and static files: /api/v1/docs served from here, not from a CDN
    "smartoa.core",
    "smartoa.audit",
    "smartoa.accounts",
    "smartoa.contracts",
    "smartoa.consignes",
    "smartoa.metering",
    "smartoa.billing",
    "smartoa.notifications",
    "smartoa.jobs",
    "smartoa.web",
    "smartoa.backoffice",
    "smartoa.portal",
    "smartoa.runtime",
]

MIDDLEWARE = [
    "smartoa.core.logging.RequestIdMiddleware",
    "smartoa.core.probes.RouteLabelMiddleware",  # the route template, for the request metrics (process_view only)
    "smartoa.api.errors.JsonErrorsMiddleware",  # under /api/, every answer is JSON (404, 405, 400, 500…)
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "smartoa.core.sessions.SessionMiddleware",  # Django's, but a page polling for changes renews nothing
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "smartoa.web.middleware.TwoStepLoginMiddleware",  # nothing but the login steps before password + TOTP
    "smartoa.web.middleware.AccountLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out account or address before the password check
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "portal:contracts"
# Where an account lands after its login (web/context.py home_of): producers on their contracts, operators on
# the back office's control screen. URL names, so the shared web layer imports neither side.
SMARTOA_HOME = "portal:contracts"
SMARTOA_STAFF_HOME = "backoffice:control"
LOGOUT_REDIRECT_URL = "web:login"

# django-axes: failures counted per account and per address, in the shared cache (database or Redis); each
# parameter has its own limit (web/lockout.py): the account at SMARTOA_LOGIN_FAILURES, the address at
# SMARTOA_LOGIN_FAILURES_PER_ADDRESS. The account is its e-mail address lower-cased, whatever was typed.
AXES_HANDLER = "smartoa.web.lockout.PerParameterLimitsHandler"
AXES_CACHE = "default"
AXES_FAILURE_LIMIT = SMARTOA_LOGIN_FAILURES
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = timedelta(minutes=SMARTOA_LOCKOUT_MINUTES)
AXES_RESET_ON_SUCCESS = True  # the account's failures only (web/lockout.py)
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "smartoa.web.lockout.login_username"
AXES_CLIENT_IP_CALLABLE = "smartoa.core.addresses.client_ip"
AXES_LOCKOUT_CALLABLE = "smartoa.web.views.auth.locked_out"
AXES_VERBOSE = False
AXES_ENABLE_ADMIN = False  # counters live in the cache (AXES_HANDLER), not in axes' tables

# django-otp: TOTP codes of the standard apps (30 s, 6 digits); a code of the previous or next step is accepted
# once (replay refused: each device remembers the last step used); failures slow further tries down.
OTP_TOTP_ISSUER = "SMART OA"
OTP_TOTP_TOLERANCE = 1
OTP_TOTP_THROTTLE_FACTOR = 1

# Content Security Policy: no inline script or style, nothing from another site, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

ROOT_URLCONF = "smartoa.urls"
WSGI_APPLICATION = "smartoa.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csrf",
                "smartoa.web.context.frame",
            ]
        },
    }
]


# Executions before psycopg prepares a statement server-side (0: never, e.g. behind a transaction pooler).
SMARTOA_PG_PREPARE = _env_int("SMARTOA_PG_PREPARE", 5, minimum=0)
# Limits of the command line and jobs; web processes tighten them (core/dbguard.py, from wsgi.py).
SQLITE_BUSY_TIMEOUT = 20  # seconds waiting for another process's write lock
PG_CONNECT_TIMEOUT = 10


def _database() -> dict:
    """The database; nothing is created here (``smartoa migrate`` creates the SQLite file and its folder)."""
    url = _env("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'smartoa.sqlite3'}"
    try:
        config = dj_database_url.parse(url, conn_max_age=600, conn_health_checks=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL cannot be used: {exc}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["CONN_MAX_AGE"] = 0 if config["NAME"] == ":memory:" else 600
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": SQLITE_BUSY_TIMEOUT,  # sqlite3's busy timeout (no PRAGMA busy_timeout, which would win)
            "init_command": (
                # page_size only applies to a new database (curve blobs of 2.3 kB fit 8 kB pages better).
                "PRAGMA page_size=8192; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA mmap_size=268435456;"
            ),
        }
        # Tests use a file too, so that real server subprocesses can share the test database.
        name = Path(config["NAME"])
        config["TEST"] = {"NAME": str(name.with_name("test_" + name.name))}
    elif config["ENGINE"] == "django.db.backends.postgresql":
        # Server-side binding lets psycopg prepare the API's repeated statements (parsed and planned once).
        config.setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=SMARTOA_PG_PREPARE or None, connect_timeout=PG_CONNECT_TIMEOUT
        )
    return config


DATABASES = {"default": _database()}

# A cache shared by all workers (the API's failed-authentication counters): a table of the database by default
# (created by ``smartoa migrate``), Redis with SMARTOA_CACHE_URL=redis://host:6379/0.
CACHE_TABLE = "smartoa_cache"


def _cache() -> dict:
    url = _env("SMARTOA_CACHE_URL")
    if not url:
        return {"BACKEND": "smartoa.core.cache.DatabaseCache", "LOCATION": CACHE_TABLE}  # with an atomic incr
    if url.startswith(("redis://", "rediss://", "unix://")):
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "KEY_PREFIX": "smartoa"}
    raise ImproperlyConfigured("SMARTOA_CACHE_URL must be empty (the database) or redis://host:port/db")


CACHES = {"default": _cache()}
# django-ratelimit reads these (its app, which only adds a system check of the cache backend, is not installed: the
# check knows Django's database cache, whose increments are not atomic, not ours, which are).
RATELIMIT_USE_CACHE = "default"
RATELIMIT_FAIL_OPEN = True  # a cache failure never refuses a client: it is logged (api/refusals.py)

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",  # every password a person chooses
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "smartoa.accounts.hashers.ProvisionalPasswordHasher",  # the platform's random provisional passwords only
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fr"
LOCALE_PATHS = [BASE_DIR / "locale"]  # fr: the English templates of user errors; en: the French pages
LANGUAGES = [("fr", "Français"), ("en", "English")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"  # served by WhiteNoise; created and filled by `serve` (collectstatic)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- security headers and cookies ------------------------------------------------------------------------

# Database sessions that know their account (accounts/sessions.py): "Mon compte" lists and ends them.
SESSION_ENGINE = "smartoa.accounts.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = SMARTOA_SESSION_IDLE_MINUTES * 60  # renewed at each request: an idle session ends
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "smartoa.web.views.errors.csrf_failure"  # a French page that says what happened
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SMARTOA_TRUSTED_PROXIES else None
    # Behind the TLS-terminating proxy, a page asked for over plain HTTP is sent to HTTPS (the API's hot path
    # answers before Django: its clients are configured with the https:// URL).
    SECURE_SSL_REDIRECT = bool(SMARTOA_TRUSTED_PROXIES)
    CSRF_TRUSTED_ORIGINS = [BASE_URL] if BASE_URL.startswith("https://") else []

# --- e-mail ------------------------------------------------------------------------------------------------

DEFAULT_FROM_EMAIL = _env("SMARTOA_FROM_EMAIL", "SMART OA <no-reply@smart-oa.example>")
_email_url = _env("SMARTOA_EMAIL_URL")
if _email_url.startswith(("smtp://", "smtps://")):
    from urllib.parse import unquote, urlparse

    _parsed = urlparse(_email_url)
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _parsed.hostname or "localhost"
    EMAIL_PORT = _parsed.port or (465 if _parsed.scheme == "smtps" else 25)
    EMAIL_HOST_USER = unquote(_parsed.username or "")
    EMAIL_HOST_PASSWORD = unquote(_parsed.password or "")
    EMAIL_USE_SSL = _parsed.scheme == "smtps"
    EMAIL_USE_TLS = _parsed.scheme == "smtp" and EMAIL_PORT == 587
elif _email_url.startswith("file://"):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = _email_url.removeprefix("file://")
elif _email_url in {"", "console://"}:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    raise ImproperlyConfigured("SMARTOA_EMAIL_URL must be smtp://, smtps://, file:// or console://")

# Console logs carry the request id (X-Request-ID of the response; in the body of a 500/503). Server errors of
# Django (django.request, with their traceback) are logged; its 4xx warnings are not, nor rejected Host headers
# (scanners' noise: the 400 is in the access log). SMARTOA_LOG_FORMAT=json writes one JSON object per line (time,
# level, logger, message, request_id) and a line per request (method, path, status, duration_ms).
LOG_LEVEL = _env("SMARTOA_LOG_LEVEL", "WARNING").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"SMARTOA_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {LOG_LEVEL!r}")
LOG_FORMAT = _env("SMARTOA_LOG_FORMAT", "text").lower()
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"SMARTOA_LOG_FORMAT must be text or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "smartoa.core.logging.RequestIdFilter"}},
    "formatters": {
        "console": {"format": "%(asctime)s %(levelname)s %(name)s [request %(request_id)s] %(message)s"},
        "json": {"()": "smartoa.core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if LOG_FORMAT == "json" else "console",
        },
    },
    "loggers": {
        "smartoa": {"handlers": ["console"], "level": LOG_LEVEL},
        "huey": {"handlers": ["console"], "level": LOG_LEVEL},  # the task engine (smartoa worker)
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.security.DisallowedHost": {"handlers": [], "level": "CRITICAL", "propagate": False},
    },
}
if LOG_FORMAT == "json":  # a line per request (core/probes.py)
    LOGGING["loggers"]["smartoa.request"] = {"handlers": ["console"], "level": "INFO", "propagate": False}
