"""One settings module; everything that differs between machines comes from the environment."""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)


def _required_in_production(name: str, why: str) -> None:
    """Production (DEBUG off) refuses to start without the variables that have no safe default."""
    if not DEBUG and not env.str(name, default=""):
        raise ImproperlyConfigured(
            f"{name} is not set. {why} Set it in the environment (see .env.example), "
            "or set DEBUG=true for a development run."
        )


_required_in_production("SECRET_KEY", "It signs sessions and password-reset links.")
_required_in_production("ALLOWED_HOSTS", "It lists the host names this site answers to.")
_required_in_production("SITE_URL", "Links in emails point to it (https://help.example.com).")

SECRET_KEY = env.str("SECRET_KEY", default="insecure-development-key-change-me-in-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "django_q",
    "plans",
    "sla",
    "tickets",
    "tickets.desk",
]

MIDDLEWARE = [
    # Outermost: every log line of the request carries its id; the metrics time everything.
    "helpdesk.logs.RequestIdMiddleware",
    "helpdesk.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "plans.middleware.ViewerTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
WSGI_APPLICATION = "helpdesk.wsgi.application"
ASGI_APPLICATION = "helpdesk.asgi.application"

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
                "plans.context_processors.viewer",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web server and qcluster) share the file: wait for locks instead of
    # failing at once, and let writers queue up.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Customers may sign in with their email address (any case); user names work as before.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "plans.auth_backends.EmailBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
# Stored in UTC; shown in the viewer's zone.
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "static")
# WhiteNoise serves STATIC_ROOT (filled by collectstatic, which the run commands call); while
# developing it also finds files in the apps, so a fresh change shows without collecting.
WHITENOISE_USE_FINDERS = DEBUG
# Attachments live outside static and are served only through a view that checks access.
# Several web and worker machines must share this folder (an NFS or similar mount): it is the
# only local state of the product. See README, "Production".
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Production: compressed (gzip/brotli) and fingerprinted names, cached forever by browsers.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Attachment limits: a file larger than this, or of another type, is refused with a message.
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
# The currency of contracts' hourly rates and charges, named beside every amount (ISO 4217).
BILLING_CURRENCY = env.str("BILLING_CURRENCY", default="EUR")
ATTACHMENT_EXTENSIONS = env.list(
    "ATTACHMENT_EXTENSIONS",
    default=["txt", "log", "csv", "json", "xml", "pdf", "png", "jpg", "jpeg", "gif", "zip", "har"],
)
# Where links in emails point (required in production).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# A site served over HTTPS sends its cookies over HTTPS only. gunicorn takes the scheme from the
# proxy's X-Forwarded-Proto (FORWARDED_ALLOW_IPS); the proxy redirects plain HTTP.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SITE_URL.startswith("https://")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="support@helpdesk.example")
# The address customers write to and reply to (Reply-To of every ticket mail).
SUPPORT_EMAIL = env.str("SUPPORT_EMAIL", default=DEFAULT_FROM_EMAIL)
# Inbound email: IMAP mailboxes polled by the `inbound-mail` schedule. INBOUND_IMAP_URL holds one
# URL or several separated by commas; INBOUND_IMAP_URL_<NAME> adds a mailbox named <name>. Query
# parameters tie a mailbox to a queue or a policy (see README, "Email in and out").
INBOUND_IMAP_URLS = [("", url) for url in env.list("INBOUND_IMAP_URL", default=[])] + sorted(
    (key.removeprefix("INBOUND_IMAP_URL_").lower(), value)
    for key, value in env.ENVIRON.items()
    if key.startswith("INBOUND_IMAP_URL_") and value
)
# Mails larger than this are refused whole (told so); each attachment follows the limits above.
INBOUND_MAX_BYTES = env.int("INBOUND_MAX_BYTES", default=30 * 1024 * 1024)
# How many messages one poll takes from a mailbox, and how often a failed mail is retried.
INBOUND_BATCH = env.int("INBOUND_BATCH", default=50)
INBOUND_MAX_ATTEMPTS = env.int("INBOUND_MAX_ATTEMPTS", default=5)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

REDIS_URL = env.str("REDIS_URL", default="")
# django-q2: the ORM broker needs no other service; REDIS_URL switches to Redis.
# `retry` must exceed `timeout`, or a slow task would be handed out twice.
Q_CLUSTER = {
    "name": env.str("Q_CLUSTER_NAME", default="helpdesk"),
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": 60,
    "retry": 120,
    "max_attempts": 3,
    "catch_up": True,
    "ack_failures": True,
    "label": "Tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 1

# /metrics (Prometheus): a bearer token, or client addresses (CIDR) allowed without one.
# Neither set: /metrics answers 403 to everyone.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[])

# Logs: JSON lines in production (one object per line, with the request id and the ticket
# reference), plain text while developing. LOG_FORMAT=json|plain overrides.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "helpdesk.logs.ContextFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # django.request logs 4xx and 5xx itself; the root handler prints them once.
    "loggers": {"django": {"handlers": [], "propagate": True}},
}
