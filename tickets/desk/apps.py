from django.apps import AppConfig


class DeskConfig(AppConfig):
    """A separate app so that the admin's autodiscovery finds `tickets.desk.admin`.

    The domain app `tickets` never imports its presentation, so it cannot import the desk's admin
    module itself; registering the desk as an app lets Django import it at start-up instead.
    """

    name = "tickets.desk"
    label = "desk"
    verbose_name = "Agents' desk"
