"""Settings for the test suite: the production settings with tasks run in-process.

django-q2 reads its configuration when `django_q` is imported, so `override_settings` cannot
switch it to synchronous mode; this module does it before anything imports django_q.
"""

import os

# The tests run with DEBUG off (as Django's test runner does) without a production environment.
for _name, _value in {
    "SECRET_KEY": "tests-only-secret-key",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,[::1]",
    "SITE_URL": "http://127.0.0.1:8000",
}.items():
    os.environ.setdefault(_name, _value)

from helpdesk.settings import *  # noqa: E402, F403
from helpdesk.settings import LOGGING, Q_CLUSTER, STORAGES  # noqa: E402

Q_CLUSTER = {**Q_CLUSTER, "sync": True}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
Q_CLUSTER["log_level"] = "WARNING"
LOGGING = {
    **LOGGING,
    "loggers": {
        **LOGGING["loggers"],  # type: ignore[dict-item]
        "django-q": {"level": "WARNING"},
        # 403s and 404s are what the access tests expect: log only server errors.
        "django.request": {"level": "ERROR"},
    },
}
# Tests never run collectstatic: WhiteNoise serves the apps' files directly, unfingerprinted.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The test client speaks plain HTTP: no redirect to HTTPS, cookies sent without TLS.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
