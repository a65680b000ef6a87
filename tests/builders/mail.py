"""Outgoing mail in tests: send the ticket updates a grouping window holds back."""

from __future__ import annotations

import time_machine
from django.db.models import Max

from tickets import notifications
from tickets.models import DeliveryStatus, OutgoingNotification


def send_held_mails() -> int:
    """Moves time to the end of the last open grouping window and sends every held ticket
    update there, as the re-drive would once the windows closed; returns the mails sent.
    Only held rows: a row whose task a test chose not to run stays unsent. Time is back after."""
    held = OutgoingNotification.objects.filter(
        status=DeliveryStatus.PENDING, group__isnull=False, attempts=0
    )
    ids = list(held.order_by("pk").values_list("pk", flat=True))
    closes = held.aggregate(last=Max("send_after"))["last"]
    if closes is None:
        return 0
    with time_machine.travel(closes, tick=False):
        return notifications.send_notifications(ids).get("sent", 0)
