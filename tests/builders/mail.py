"""Outgoing mail in tests: send what the grouping window holds back, as the re-drive would."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.conf import settings
from django.utils import timezone

from tickets import notifications


def send_held_mails() -> int:
    """Moves time past the grouping window and runs the re-drive (its schedule's job), which
    sends every held ticket update; returns how many rows it enqueued. Time is back after."""
    later = timezone.now() + dt.timedelta(seconds=settings.NOTIFICATION_GROUP_WINDOW + 1)
    with time_machine.travel(later, tick=False):
        return notifications.redrive().enqueued
