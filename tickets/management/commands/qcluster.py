"""`manage.py qcluster`: django-q2's command, refusing to start the workers without the
production environment (`helpdesk.production`). It overrides django-q2's own because `tickets`
comes before `django_q` in INSTALLED_APPS."""

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError
from django_q.management.commands.qcluster import Command as ClusterCommand

from helpdesk import production


class Command(ClusterCommand):
    def handle(self, *args: Any, **options: Any) -> None:
        try:
            production.require("qcluster")
        except ImproperlyConfigured as refused:
            raise CommandError(str(refused)) from refused
        super().handle(*args, **options)
