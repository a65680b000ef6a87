from django.contrib.admin.apps import AdminConfig


class DeskAdminConfig(AdminConfig):
    """Django's admin app, with `admin.site` a `helpdesk.adminkit.DeskAdminSite`."""

    default_site = "helpdesk.adminkit.DeskAdminSite"
