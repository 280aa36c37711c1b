"""The one settings module: everything is read from the environment (see docs and INTERFACES.md).

Production refuses to start with an insecure configuration: a missing or default secret key, debug on,
no allowed hosts, or a frozen clock (``SMARTOA_NOW``).
"""

from __future__ import annotations

import os
from datetime import datetime, time
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

INSECURE_SECRET_KEYS = {"", "change-me", "changeme", "secret", "dev", "insecure-test-key"}
DEFAULT_TEST_SECRET_KEY = "insecure-test-key"


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


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


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    try:
        return int(raw) if raw else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from exc


def _env_float(name: str, default: float) -> float:
    raw = _env(name)
    try:
        return float(raw) if raw else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from exc


def _env_time(name: str, default: str) -> time:
    raw = _env(name, default)
    try:
        return time.fromisoformat(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a time HH:MM, not {raw!r}") from exc


# --- environment -------------------------------------------------------------------------------------

SMARTOA_ENV = _env("SMARTOA_ENV", "test")
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
    if SMARTOA_NOW is not None:
        problems.append("SMARTOA_NOW is set (the clock can only be frozen in the test environment)")
    if problems:
        raise ImproperlyConfigured("refusing to start in production: " + "; ".join(problems))

# --- business parameters (PRODUCT.md §10: open points kept as settings) --------------------------------

SMARTOA_TRUSTED_PROXIES = frozenset(_env_list("SMARTOA_TRUSTED_PROXIES"))
SMARTOA_TOKEN_LIFETIME_DAYS = _env_int("SMARTOA_TOKEN_LIFETIME_DAYS", 183)
SMARTOA_HLAR_DEFAULT = _env_time("SMARTOA_HLAR_DEFAULT", "16:30")
SMARTOA_MODIFICATION_CUTOFF_MINUTES = _env_int("SMARTOA_MODIFICATION_CUTOFF_MINUTES", 30)
SMARTOA_PRICE_THRESHOLD = _env_float("SMARTOA_PRICE_THRESHOLD", 0.0)
SMARTOA_TOLERANCE_KWH = _env_float("SMARTOA_TOLERANCE_KWH", 0.0)
SMARTOA_TOLERANCE_PERCENT = _env_float("SMARTOA_TOLERANCE_PERCENT", 0.0)
SMARTOA_HISTORY_MAX_DAYS = _env_int("SMARTOA_HISTORY_MAX_DAYS", 366)
SMARTOA_WORKERS = _env_int("SMARTOA_WORKERS", 2)
SMARTOA_THREADS = _env_int("SMARTOA_THREADS", 4)

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
    "smartoa.core",
    "smartoa.audit",
    "smartoa.accounts",
    "smartoa.contracts",
    "smartoa.consignes",
    "smartoa.metering",
    "smartoa.billing",
    "smartoa.backoffice",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

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
            ]
        },
    }
]


def _database() -> dict:
    url = _env("DATABASE_URL")
    if not url:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{DATA_DIR / 'smartoa.sqlite3'}"
    config = dj_database_url.parse(url, conn_max_age=600, conn_health_checks=True)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["CONN_MAX_AGE"] = 0 if config["NAME"] == ":memory:" else 600
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                # page_size only applies to a new database (curve blobs of 2.3 kB fit 8 kB pages better).
                "PRAGMA page_size=8192; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000; "
                "PRAGMA mmap_size=268435456;"
            ),
        }
        # Tests use a file too, so that real server subprocesses can share the test database.
        name = Path(config["NAME"])
        config["TEST"] = {"NAME": str(name.with_name("test_" + name.name))}
    elif config["ENGINE"] == "django.db.backends.postgresql":
        # Server-side binding lets psycopg prepare the API's repeated statements (parsed and planned once).
        # (With a transaction-mode connection pooler in front, set SMARTOA_PG_PREPARE=0.)
        prepare = _env_int("SMARTOA_PG_PREPARE", 5)
        config.setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=prepare or None)
    return config


DATABASES = {"default": _database()}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("en", "English")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # served by WhiteNoise; filled by `serve` (collectstatic)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- security headers and cookies ------------------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SMARTOA_TRUSTED_PROXIES else None
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"smartoa": {"handlers": ["console"], "level": _env("SMARTOA_LOG_LEVEL", "WARNING")}},
}
