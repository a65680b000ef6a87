"""Real values for every URL parameter, taken from the portal tests' world (Acme owns them).

Used with `tests.urlwalk` by the fuzz and tenant tests: a ticket reference and attachment of
Acme, Bob's contact row, and for an admin page the first object of that page's model. Not a
test module: tests import it.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from tests.builders.portal import PortalWorld as World
from tests.urlwalk import Route
from tickets.models import Attachment, CustomerEscalation, Ticket


def admin_model(route: Route) -> type | None:
    """The model of an admin page `/admin/<app>/<model>/...`, or None."""
    parts = route.template.strip("/").split("/")
    if len(parts) < 3 or parts[0] != "admin" or "{" in parts[1] or "{" in parts[2]:
        return None
    try:
        return apps.get_model(parts[1], parts[2])
    except LookupError:
        return None


def real_values(route: Route, world: World) -> dict[str, str]:
    ticket = Ticket.objects.filter(organization=world.acme).order_by("pk").first()
    values: dict[str, str] = {}
    for name in route.params:
        if name == "reference":
            values[name] = ticket.reference if ticket else "HD-000001"
        elif name == "pk" and route.name == "tickets:attachment":
            attachment = Attachment.objects.filter(ticket=ticket).first()
            values[name] = str(attachment.pk if attachment else 1)
        elif name == "pk":  # a named contact to remove: the owner's colleague
            values[name] = str(world.bob.pk)
        elif name == "escalation_id":
            escalation = CustomerEscalation.objects.first()
            values[name] = str(escalation.pk if escalation else 1)
        elif name == "object_id" and route.template.startswith("/admin/r/"):
            values[name] = str(ticket.pk if ticket else 1)
        elif name == "content_type_id":
            values[name] = str(ContentType.objects.get_for_model(Ticket).pk)
        elif name == "object_id":
            model = admin_model(route)
            row = model._default_manager.order_by("pk").first() if model else None
            values[name] = str(row.pk if row else 1)
        elif name == "id":
            values[name] = str(get_user_model().objects.order_by("pk").first().pk)
        elif name == "app_label":
            values[name] = "tickets"
        elif name == "url":
            values[name] = "no-such-page/"
        elif name == "organization":
            values[name] = world.acme.slug
        elif name == "month":
            values[name] = f"{timezone.now():%Y-%m}"
        else:  # uidb64, token and whatever a new pattern adds: a harmless word
            values[name] = "x"
    return values
