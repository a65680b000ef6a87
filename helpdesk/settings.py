"""One settings module; everything that differs between machines comes from the environment."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# Production (DEBUG off) needs SECRET_KEY, ALLOWED_HOSTS and SITE_URL from the environment. They
# are checked where production starts (`helpdesk/production.py`: the WSGI and ASGI applications,
# `manage.py qcluster`, `check --deploy`), not here, so that management commands run without
# them. Without them and with DEBUG off nothing usable stands in: an empty secret key (Django
# refuses to sign with it), no allowed host. The development fallbacks need DEBUG on.
PUBLISHED_SECRET_KEY = "insecure-development-key-change-me-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=PUBLISHED_SECRET_KEY if DEBUG else "")
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "helpdesk.apps.DeskAdminConfig",  # django.contrib.admin, with our site class
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "plans",
    "sla",
    "tickets",
    "tickets.desk",
    # After `tickets`, whose `qcluster` command (django-q2's, checking the production
    # environment first) takes precedence over django-q2's own.
    "django_q",
]

MIDDLEWARE = [
    # Outermost: every log line of the request carries its id; the metrics time everything.
    "helpdesk.logs.RequestIdMiddleware",
    "helpdesk.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "helpdesk.http.HostileInputMiddleware",
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
# Each process keeps its connection between requests (`?conn_max_age=` in the URL overrides):
# a new PostgreSQL connection costs a server process with cold caches, several milliseconds of
# every request. A connection that died meanwhile is noticed before it is used. (Under ASGI set
# DB_CONN_MAX_AGE=0: there each request may run on a thread of its own.)
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
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
# Longest message body, escalation or reopen reason a person may write (characters); longer
# input is refused with a message naming the field.
MESSAGE_BODY_MAX_CHARS = env.int("MESSAGE_BODY_MAX_CHARS", default=20_000)
# Where links in emails point (required in production).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000" if DEBUG else "").rstrip("/")

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
# A mail server that does not answer fails the attempt (it is retried) instead of hanging.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# Outgoing notifications (tickets.notifications): a row left `sending` this long belongs to a
# dead worker and is sent again (longer than the task timeout below plus EMAIL_TIMEOUT); a
# pending row this long past its due instant lost its task and is re-driven.
NOTIFICATION_STALE_SECONDS = env.int("NOTIFICATION_STALE_SECONDS", default=300)
NOTIFICATION_REDRIVE_SECONDS = env.int("NOTIFICATION_REDRIVE_SECONDS", default=30)
# A ticket update for a customer waits this long for more updates of that ticket, then they all
# go out as one mail (0: each update is sent at once). Escalations are never held.
NOTIFICATION_GROUP_WINDOW = env.int("NOTIFICATION_GROUP_WINDOW", default=60)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

REDIS_URL = env.str("REDIS_URL", default="")
# django-q2: the ORM broker needs no other service; REDIS_URL switches to Redis.
# `retry` must exceed `timeout`, or a slow task would be handed out twice. A sweep run follows
# the due instants for half the timeout (`sla.tasks`): 60 s, so that the runs the schedule
# starts every minute leave no gap between them.
Q_CLUSTER = {
    "name": env.str("Q_CLUSTER_NAME", default="helpdesk"),
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": 120,
    "retry": 180,
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
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()  # `info` as gunicorn takes it, too
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

# ---------------------------------------------------------------------------------------------
# Sign-in and deployment hardening (issue 12). One block, appended, so that it merges on its own.
# With DEBUG off every default is the production-safe one; the environment may relax it (a
# proxy that terminates TLS, a first deployment without HSTS preload).
# ---------------------------------------------------------------------------------------------
from datetime import timedelta  # noqa: E402

from csp.constants import NONE, SELF, UNSAFE_INLINE  # noqa: E402

# A site served over HTTPS (its SITE_URL says so) redirects plain HTTP, sends cookies over HTTPS
# only and asks browsers to remember it (HSTS); each can be set on its own from the environment.
# A production site on plain HTTP (a closed network, the cluster test) gets none of them.
_https = SITE_URL.startswith("https://") and not DEBUG
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=_https)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=_https)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=_https)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if _https else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=_https)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=_https)
# Behind a proxy that terminates TLS: `SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https`
# (only where the proxy sets that header itself, overwriting any the client sent).
_proxy_header = env.list("SECURE_PROXY_SSL_HEADER", default=[])
SECURE_PROXY_SSL_HEADER = tuple(_proxy_header[:2]) if len(_proxy_header) >= 2 else None

INSTALLED_APPS += ["axes", "csp"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "csp.middleware.CSPMiddleware",
)
# Axes last: it turns a lockout raised while signing in into the lockout page.
MIDDLEWARE.append("axes.middleware.AxesMiddleware")
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Customers (named contacts) may sign in with their email address, in any case.
    "plans.auth_backends.EmailBackend",
]
# Brute force: 5 wrong passwords for one account from one address lock that pair out for
# 15 minutes, on the portal's sign-in and the admin's alike. Support managers unlock early in
# the admin (Axes' access attempts).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = env.bool("AXES_VERBOSE", default=False)
AXES_LOCKOUT_CALLABLE = "helpdesk.http.lockout_response"
AXES_IPWARE_PROXY_COUNT = env.int("AXES_IPWARE_PROXY_COUNT", default=0) or None

# Content-Security-Policy (django-csp 4): scripts and style sheets only from our own origin, no
# inline script anywhere. Style attributes stay allowed (progress bars set their width; the
# admin uses a few); they cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-elem": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
