"""The fixed vocabularies of plans, defined once: models, forms, admin and the policy schema
import them from here (`plans.models` re-exports them under their old names)."""

from django.db import models


class Channel(models.TextChoices):
    PORTAL = "portal", "Support portal"
    EMAIL = "email", "Email"
    CHAT = "chat", "Live chat"
    PHONE = "phone", "Phone"
    FORUM = "forum", "Support forum"
    CALL = "call", "Scheduled call"


class TamOption(models.TextChoices):
    NONE = "none", "Not available"
    OPTIONAL = "optional", "Optional (extra)"
    INCLUDED = "included", "Included"


class ContactRole(models.TextChoices):
    ADMIN = "admin", "Organization admin"
    CONTACT = "contact", "Named contact"
