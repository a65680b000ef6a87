from django.apps import AppConfig


class TicketsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tickets"

    def ready(self) -> None:
        # Imported here, not at module level: models are not ready when this module loads.
        from helpdesk.mail import register_outbox  # noqa: PLC0415
        from sla.services import (  # noqa: PLC0415
            register_escalation_handler,
            register_ticket_locker,
        )
        from tickets import emails, hours_tasks  # noqa: F401, PLC0415 - register email contexts
        from tickets.escalations import handle_escalations  # noqa: PLC0415
        from tickets.notifications import record  # noqa: PLC0415
        from tickets.services._common import lock_tickets  # noqa: PLC0415

        register_escalation_handler(handle_escalations)
        register_ticket_locker(lock_tickets)
        register_outbox(record)
