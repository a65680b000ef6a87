"""`python manage.py seed_demo`: demo staff and customers (idempotent); prints the logins."""

from typing import Any

from django.core.management.base import BaseCommand

from tickets.demo import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Create demo staff, customer organizations on every plan, and named contacts."

    def handle(self, *args: Any, **options: Any) -> None:
        logins = seed_demo()
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for login in logins:
            self.stdout.write(f"  {login.username:<40} {login.role}")
