"""Settings for the loyalty back office.

Everything that differs between a laptop and production comes from the
environment; with nothing set, the app runs in DEBUG on a local SQLite file.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "development-only-secret-key-do-not-use-in-production-0123456789"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "loyalty.admin_site.BackOfficeAdminConfig",  # django.contrib.admin with the index in our order
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "import_export",
    "django_tables2",
    "django_q",
    "axes",
    "anymail",
    "common",
    "audit",
    "stores",
    "members",
    "points",
    "api",
    "campaigns",
    "offers",
    "coupons",
    "rallies",
    "till",
    "lifecycle",
    "ranks",
    "legacy",
    "demo",
    "billing",
    "exchange",
    "qrpoints",
    "analytics",
    "portal",
    "membersite",
    "donations",
    "mailing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout into a response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# --- The member site's one-time sign-in links (django-sesame) ---------------------------------------------
# A link works once (signing in updates the member's last login, which the token is bound to) and for
# MEMBER_LINK_MINUTES minutes. Tokens are checked by the member site's POST only (membersite.services), never
# by a middleware or a GET, so a mail scanner that opens the link does not use it up.
MEMBER_LINK_MINUTES = int(os.environ.get("MEMBER_LINK_MINUTES", "15"))
SESAME_MAX_AGE = MEMBER_LINK_MINUTES * 60
SESAME_ONE_TIME = True
SESAME_TOKEN_NAME = "token"
# Sign-in links asked for per address (and per e-mail) per hour; registration codes tried per address per hour.
MEMBER_LINKS_PER_HOUR = int(os.environ.get("MEMBER_LINKS_PER_HOUR", "5"))
MEMBER_CODE_TRIES_PER_HOUR = int(os.environ.get("MEMBER_CODE_TRIES_PER_HOUR", "10"))
# How long a member API session lasts without signing in again.
MEMBER_API_SESSION_DAYS = int(os.environ.get("MEMBER_API_SESSION_DAYS", "30"))

ROOT_URLCONF = "loyalty.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "loyalty.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock when a transaction starts, so the web
    # server and the worker queue for it instead of failing with "locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # The analytics visits' covering index (columns it only carries) is PostgreSQL's; SQLite keeps its keys.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DATABASE_PREPARED", True):
    # Server-side binding lets PostgreSQL prepare the statements a terminal
    # request repeats, instead of planning each one afresh (about half of
    # its CPU per earn). Turn off behind a transaction-mode pgbouncer.
    DATABASES["default"]["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": 5}

# A streaming read replica for the heavy reads (common/replica.py): the views that opt in read it unless the
# primary has a transaction open, they wrote already, or it lags more than DATABASE_REPLICA_MAX_LAG_SECONDS
# (asked at most every DATABASE_REPLICA_CHECK_SECONDS). Without the URL every read goes to the primary.
# DATABASE_REPLICA_READS=0 keeps every read on the primary though a replica is configured. Tests run with the
# alias as a mirror of the test database (conftest.py), its reads off unless a test turns them on.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = {
        **dj_database_url.parse(
            os.environ["DATABASE_REPLICA_URL"], conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60"))
        ),
        "OPTIONS": DATABASES["default"].get("OPTIONS", {}),
        "TEST": {"MIRROR": "default"},
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["replica"]["CONN_MAX_AGE"] = 0
DATABASE_ROUTERS = ["common.replica.ReplicaRouter"]
DATABASE_REPLICA_READS = env_bool("DATABASE_REPLICA_READS", True)
DATABASE_REPLICA_MAX_LAG_SECONDS = float(os.environ.get("DATABASE_REPLICA_MAX_LAG_SECONDS", "30"))
DATABASE_REPLICA_CHECK_SECONDS = float(os.environ.get("DATABASE_REPLICA_CHECK_SECONDS", "5"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
# Dates as 2026/12/03 in every screen and document (loyalty/formats).
FORMAT_MODULE_PATH = ["loyalty.formats"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("LOYALTY_MEDIA_ROOT", BASE_DIR / "media"))

# --- Security -------------------------------------------------------------
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Admin login throttling: after AXES_FAILURE_LIMIT failures for one
# user name from one address, that pair is locked out for the cool-off.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_VERBOSE = False
# The lockout page, in Japanese and in the look of the admin or the portal (status 429).
AXES_LOCKOUT_CALLABLE = "loyalty.lockout.locked_out"
# Never write the attempted password or the request's form data to the database.
AXES_SENSITIVE_PARAMETERS = ["password", "password1", "password2"]

# --- Personal data encryption ---------------------------------------------
# One comma-separated list of Fernet keys per field, newest first; older keys
# still decrypt until `manage.py rotate_field_keys` has rewritten every row.
# The blind-index key hashes phone, email, name and card numbers for
# exact-match search. In DEBUG, development keys are derived when unset.
FIELD_ENCRYPTION_KEYS = {
    name: env_list(f"FIELD_KEYS_{name.upper()}")
    for name in ("name", "kana", "address", "phone", "email", "birth_date", "card_number")
}
BLIND_INDEX_KEY = os.environ.get("BLIND_INDEX_KEY", "")
FIELD_KEYS_DEVELOPMENT_DEFAULTS = DEBUG

# --- Imports and exports --------------------------------------------------
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "change"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"

# --- Background work --------------------------------------------------------
Q_CLUSTER = {
    "name": "loyalty",
    "orm": "default",
    "workers": int(os.environ.get("Q_WORKERS", "2")),
    "timeout": 3600,
    "retry": 4000,
    "max_attempts": 1,
    "catch_up": False,
    "label": "Django Q2",
}

# --- Terminal API -----------------------------------------------------------
# Largest request body a single terminal request may send, in bytes.
TERMINAL_API_MAX_BODY = int(os.environ.get("TERMINAL_API_MAX_BODY", str(64 * 1024)))
# The offline batch's limit: 10,000 items fit comfortably.
TERMINAL_API_MAX_BATCH_BODY = int(os.environ.get("TERMINAL_API_MAX_BATCH_BODY", str(8 * 1024 * 1024)))
# An offline batch of more items than this is answered 202 at once and applied by the workers (api/batch/).
TERMINAL_API_BATCH_INLINE_MAX = int(os.environ.get("TERMINAL_API_BATCH_INLINE_MAX", "200"))
# A queued part of a batch that has shown no progress for this long lost its worker: the next status read
# queues it again for another worker (api/batch/queued.py).
TERMINAL_BATCH_STALLED_SECONDS = int(os.environ.get("TERMINAL_BATCH_STALLED_SECONDS", "60"))
# How long a write waits for a lock (a retry for its first request, a card for another till) before it
# is answered 409 or 503 and the till retries; PostgreSQL only (SQLite takes one writer at a time).
TERMINAL_API_LOCK_TIMEOUT_MS = int(os.environ.get("TERMINAL_API_LOCK_TIMEOUT_MS", "3000"))
# How far in the future a till's clock may be and still be believed.
TERMINAL_CLOCK_SKEW_SECONDS = int(os.environ.get("TERMINAL_CLOCK_SKEW_SECONDS", "300"))
# Requests per second one terminal may send on average, and how many at once
# (api/ratelimit.py); beyond that it is answered 429 with Retry-After. 0 turns
# the limit off. Counted in the default cache: per worker process unless
# DJANGO_CACHE_URL points at Redis.
TERMINAL_API_RATE = float(os.environ.get("TERMINAL_API_RATE", "20"))
TERMINAL_API_BURST = int(os.environ.get("TERMINAL_API_BURST", "40"))

# --- Cache ------------------------------------------------------------------
# Local memory by default: nothing to set up, but each worker process has its
# own. DJANGO_CACHE_URL=redis://127.0.0.1:6379/1 shares it between workers.
CACHE_URL = os.environ.get("DJANGO_CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
elif CACHE_URL:
    raise ImproperlyConfigured("DJANGO_CACHE_URL must be a redis://, rediss:// or unix:// address.")
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "loyalty"}}

# --- Points -----------------------------------------------------------------
# Terminals that have not been heard from for this long are listed as silent.
TERMINAL_SILENT_AFTER_MINUTES = int(os.environ.get("TERMINAL_SILENT_AFTER_MINUTES", "60"))

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "jimukyoku@example.jp")

# --- Mail to members (docs/member-mail.md) ------------------------------------------------------------------
# The console backend unless EMAIL_BACKEND names a provider's django-anymail backend
# (anymail.backends.postmark.EmailBackend, anymail.backends.amazon_ses.EmailBackend, ...). Every environment
# variable ANYMAIL_<NAME> becomes the ANYMAIL setting <NAME>: ANYMAIL_POSTMARK_SERVER_TOKEN, ANYMAIL_WEBHOOK_SECRET
# ("user:password", the basic auth the provider's webhook calls /mail/anymail/<provider>/tracking/ with; the
# webhooks answer 404 until it is set).
ANYMAIL = {name.removeprefix("ANYMAIL_"): value for name, value in os.environ.items() if name.startswith("ANYMAIL_")}
MAILING_FROM_EMAIL = os.environ.get("MAILING_FROM_EMAIL", DEFAULT_FROM_EMAIL)
# Where each programme's monthly report (docs/analytics.md) is mailed after the close; empty: made, not mailed.
REPORTS_SECRETARIAT_EMAIL = os.environ.get("REPORTS_SECRETARIAT_EMAIL", DEFAULT_FROM_EMAIL)

# --- Billing and the merchant portal ------------------------------------------
# A period is closed no earlier than this long after it ends, so requests still in flight at midnight land first.
BILLING_CLOSE_GRACE_MINUTES = int(os.environ.get("BILLING_CLOSE_GRACE_MINUTES", "10"))
# Where merchants reach the portal; used in the e-mail that tells them their documents are ready.
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000")
# The member site's address (/my/): in the links mailed to members and in the QR codes of posters, flyers and
# store counters.
MEMBER_SITE_BASE_URL = os.environ.get("MEMBER_SITE_BASE_URL", PORTAL_BASE_URL).rstrip("/")
# Portal and admin sessions end after this many seconds (8 hours), and when the browser closes.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_query": {"()": "common.logging.RedactQueryStrings"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact_query"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # `make run` (bin/serve) keeps the console for the logins: requests are logged there only if they fail.
        "django.server": {
            "handlers": ["console"],
            "level": os.environ.get("REQUEST_LOG_LEVEL", "INFO"),
            "propagate": False,
        },
        "django.request": {
            "handlers": ["console"],
            "level": "ERROR" if os.environ.get("REQUEST_LOG_LEVEL") == "ERROR" else "WARNING",
            "propagate": False,
        },
        # A login's lockout bookkeeping ("Reset 0 access attempts") is not news.
        "axes": {"level": "WARNING"},
        # SQL parameters would carry ciphertext and hashes; never log them.
        "django.db.backends": {"level": "WARNING"},
    },
}
