"""`{% notification_backlog as backlog %}`: unsent and failed mail counts for agents' pages."""

from __future__ import annotations

from django import template

from tickets.selectors import NotificationBacklog
from tickets.selectors import notification_backlog as backlog_selector

register = template.Library()


@register.simple_tag
def notification_backlog() -> NotificationBacklog:
    return backlog_selector()
