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
        """Register with `sla` what its clocks and escalations do to tickets, with `plans` the
        refresh of the tickets' queue rank, the outbox with `helpdesk.mail`, the email contexts,
        the mailboxes' check and production's."""
        import sla.services as sla  # noqa: PLC0415  (the app registry must be ready first)
        from helpdesk import production  # noqa: PLC0415  (as above)
        from helpdesk.mail import register_outbox  # noqa: PLC0415  (as above)
        from plans.ranking import register_priorities_changed_handler  # noqa: PLC0415  (as above)
        from tickets import emails, escalations  # noqa: F401, PLC0415  (emails: their contexts)
        from tickets.hours import tasks as hours_tasks  # noqa: F401, PLC0415  (its mail context)
        from tickets.inbound.config import check_mailboxes  # noqa: PLC0415  (registry first)
        from tickets.notifications import record  # noqa: PLC0415  (registry first)
        from tickets.services import standing  # noqa: PLC0415  (registry first)
        from tickets.services._common import lock_tickets  # noqa: PLC0415  (registry first)

        sla.register_escalation_handler(escalations.handle_escalations)
        sla.register_clocks_changed_handler(standing.tickets_refresh_sla)
        sla.register_ticket_locker(lock_tickets)
        register_priorities_changed_handler(standing.tickets_refresh_rank)
        register_outbox(record)
        checks.register(check_mailboxes)
        # Production's environment, checked by `check --deploy` (and where production starts).
        checks.register(production.check, production.TAG, checks.Tags.security, deploy=True)
