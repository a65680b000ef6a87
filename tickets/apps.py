from django.apps import AppConfig


class TicketsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tickets"

    def ready(self) -> None:
        from sla.services import register_escalation_handler
        from tickets.escalations import handle_escalations

        register_escalation_handler(handle_escalations)
