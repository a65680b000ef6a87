"""`python manage.py seed_demo`: demo staff, customers, queues, tickets and logged hours
(idempotent); prints the logins."""

import logging
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from sla.services import sweep
from tickets.demo import DEMO_PASSWORD, seed_demo
from tickets.hours.demo import seed_hours


class Command(BaseCommand):
    help = "Create demo staff, customer organizations on every plan, tickets and time entries."

    def handle(self, *args: Any, **options: Any) -> None:
        # One "Enqueued" line per demo email would bury the logins.
        logging.getLogger("django-q").setLevel(logging.WARNING)
        logins = seed_demo()
        seed_hours(today=timezone.localdate())
        result = sweep()  # breaches and escalations already due in the demo's past
        self.stdout.write(
            f"SLA sweep: {result.breached} breach(es) recorded, {result.fired} escalation(s) fired."
        )
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for login in logins:
            self.stdout.write(f"  {login.username:<40} {login.role}")
