"""Settings for the test suite: the production settings with tasks run in-process.

django-q2 reads its configuration when `django_q` is imported, so `override_settings` cannot
switch it to synchronous mode; this module does it before anything imports django_q.
"""

import os

# With DEBUG off the settings refuse the published secret key; tests get their own.
os.environ.setdefault(
    "SECRET_KEY", "tests-only-" + "k" * 20 + "-never-deployed-anywhere-0123456789"
)

from helpdesk.settings import *  # noqa: E402, F403
from helpdesk.settings import Q_CLUSTER  # noqa: E402

Q_CLUSTER = {**Q_CLUSTER, "sync": True}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
Q_CLUSTER["log_level"] = "WARNING"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # 403s and 404s are what the access tests expect: log only server errors.
    "loggers": {"django-q": {"level": "WARNING"}, "django.request": {"level": "ERROR"}},
}
# Tests never run collectstatic: WhiteNoise serves the apps' files directly.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
# The test client speaks plain HTTP: no redirect to HTTPS, cookies sent without TLS.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
