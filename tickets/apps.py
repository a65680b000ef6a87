from django.apps import AppConfig


class TicketsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tickets"

    def ready(self) -> None:
        # Imported once the app registry is ready: these modules import models.
        from sla.services import register_escalation_handler  # noqa: PLC0415  (registry ready)
        from tickets.escalations import handle_escalations  # noqa: PLC0415  (registry ready)

        register_escalation_handler(handle_escalations)
