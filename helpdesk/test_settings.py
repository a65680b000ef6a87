"""Settings for the test suite: the production settings with tasks run in-process.

django-q2 reads its configuration when `django_q` is imported, so `override_settings` cannot
switch it to synchronous mode; this module does it before anything imports django_q.
"""

from helpdesk.settings import *  # noqa: F403
from helpdesk.settings import Q_CLUSTER

Q_CLUSTER = {**Q_CLUSTER, "sync": True}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
Q_CLUSTER["log_level"] = "WARNING"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "loggers": {"django-q": {"level": "WARNING"}},
}
# Tests never run collectstatic: WhiteNoise serves the apps' files directly.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
