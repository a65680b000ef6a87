"""Settings for the qcluster processes the delivery fault test starts (from the environment:
DATABASE_URL, REDIS_URL or none for the ORM broker, Q_CLUSTER_NAME, MAIL_RECORD_DIR, FAULT_DIR)."""

from helpdesk.settings import *  # noqa: F403
from helpdesk.settings import INSTALLED_APPS, Q_CLUSTER

INSTALLED_APPS = [*INSTALLED_APPS, "tests.fault"]
EMAIL_BACKEND = "tests.support.mail_backends.RecordingBackend"
# Short enough for a test: the ORM broker hands a dead worker's task out again after 20 s, and a
# row left `sending` is a dead worker's after 15 s (still longer than the 10 s task timeout).
Q_CLUSTER = {**Q_CLUSTER, "timeout": 10, "retry": 20, "log_level": "WARNING"}
NOTIFICATION_STALE_SECONDS = 15
NOTIFICATION_REDRIVE_SECONDS = 5
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
