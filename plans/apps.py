from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = "Plans and customers"

    def ready(self) -> None:
        # Imported for its side effect: registers the invitation email's context builder.
        from plans import services  # noqa: F401, PLC0415
