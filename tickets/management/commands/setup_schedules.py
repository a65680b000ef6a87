"""`python manage.py setup_schedules`: create or update the django-q2 schedules (idempotent).

It lives in `tickets`, the top domain app, because it names tasks of every layer below
(`sla` must not name `tickets`' tasks); any installed app may add schedules by giving its
AppConfig a `schedules` list of the same shape (the inbound-mail poll comes that way)."""

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
    {
        # Sends outgoing notifications whose task was lost or whose worker died.
        "name": "notifications-redrive",
        "func": "tickets.notifications.redrive_task",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
    {
        # Folds the SLA report's weekly roll-up deltas (`tickets.outcomes`); sums are unchanged.
        "name": "sla-outcomes-compact",
        "func": "tickets.outcomes.compact_task",
        "schedule_type": Schedule.MINUTES,
        "minutes": 5,
        "repeats": -1,
    },
]


def all_schedules() -> list[dict[str, Any]]:
    specs = list(SCHEDULES)
    for config in apps.get_app_configs():
        specs += getattr(config, "schedules", [])
    return specs


class Command(BaseCommand):
    help = "Create or update the periodic tasks (SLA sweep, notification re-drive, mail poll)."

    def handle(self, *args: Any, **options: Any) -> None:
        for spec in all_schedules():
            values = {k: v for k, v in spec.items() if k != "name"}
            schedule, created = Schedule.objects.update_or_create(
                name=spec["name"], defaults=values
            )
            verb = "created" if created else "up to date"
            every = f"every {schedule.minutes} minute(s)" if schedule.minutes else ""
            self.stdout.write(f"{schedule.name}: {verb} ({schedule.func} {every})")
