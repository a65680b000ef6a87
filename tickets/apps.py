from django.apps import AppConfig
from django.core import checks


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
        """Register with `sla` what its clocks and escalations do to tickets; check mailboxes."""
        import sla.services as sla  # noqa: PLC0415  (the app registry must be ready first)
        from tickets import escalations  # noqa: PLC0415  (it imports models: registry first)
        from tickets.inbound.config import check_mailboxes  # noqa: PLC0415  (as above)
        from tickets.services import standing  # noqa: PLC0415  (it imports models: registry first)

        sla.register_escalation_handler(escalations.handle_escalations)
        sla.register_clocks_changed_handler(standing.tickets_refresh_sla)
        checks.register(check_mailboxes)
