from django.apps import AppConfig


class TicketsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tickets"
    # Added by `manage.py setup_schedules` (sla's command reads each app's `schedules`).
    schedules = [
        {
            "name": "inbound-mail",
            "func": "tickets.inbound.tasks.poll_mailboxes",
            "schedule_type": "I",  # django_q.models.Schedule.MINUTES
            "minutes": 1,
            "repeats": -1,
        },
    ]

    def ready(self) -> None:
        from django.core import checks

        from sla.services import register_escalation_handler
        from tickets.escalations import handle_escalations
        from tickets.inbound.config import check_mailboxes

        register_escalation_handler(handle_escalations)
        checks.register(check_mailboxes)
