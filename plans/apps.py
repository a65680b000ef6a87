from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = "Plans and customers"

    def ready(self) -> None:
        # Imported for their side effect: they register the invitation's and the password
        # reset's email context builders.
        from plans import accounts, services  # noqa: F401, PLC0415
