from django.apps import AppConfig


class TicketsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tickets"

    def ready(self) -> None:
        """Register with `sla` what its clocks and escalations do to tickets."""
        import sla.services as sla  # noqa: PLC0415  (the app registry must be ready first)
        from tickets import escalations  # noqa: PLC0415  (it imports models: registry first)
        from tickets.services import standing  # noqa: PLC0415  (it imports models: registry first)

        sla.register_escalation_handler(escalations.handle_escalations)
        sla.register_clocks_changed_handler(standing.tickets_refresh_sla)
