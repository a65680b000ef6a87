"""`python manage.py setup_schedules`: create or update the django-q2 schedules (idempotent).

The SLA sweep is sla's own; any installed app may add schedules by giving its AppConfig a
`schedules` list of the same shape (the inbound-mail poll comes that way), so this command
needs to know no app above it.
"""

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django_q.models import Schedule

SCHEDULES = [
    {
        "name": "sla-sweep",
        "func": "sla.tasks.sweep_task",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
]


def all_schedules() -> list[dict[str, Any]]:
    specs = list(SCHEDULES)
    for config in apps.get_app_configs():
        specs += getattr(config, "schedules", [])
    return specs


class Command(BaseCommand):
    help = "Create or update the periodic tasks (the SLA escalation sweep, the inbound mail poll)."

    def handle(self, *args: Any, **options: Any) -> None:
        for spec in all_schedules():
            values = {k: v for k, v in spec.items() if k != "name"}
            schedule, created = Schedule.objects.update_or_create(
                name=spec["name"], defaults=values
            )
            verb = "created" if created else "up to date"
            every = f"every {schedule.minutes} minute(s)" if schedule.minutes else ""
            self.stdout.write(f"{schedule.name}: {verb} ({schedule.func} {every})")
