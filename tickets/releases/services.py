"""Writes for maintenance releases: plan a ticket for a release, publish a release.

Publishing resolves the release's open tickets through `ticket_resolve` (so their clocks stop
and their history records it) and tells each customer contact once, in one mail listing their
tickets, queued in the same transaction (`tickets.emails`, on commit).
"""

from __future__ import annotations

from collections import defaultdict

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tickets import emails
from tickets.models import OPEN_STATUSES, Release, Ticket
from tickets.services import ticket_resolve
from tickets.services._common import Event, locked, log_event, require_agent, touch


@transaction.atomic
def release_plan_ticket(*, ticket: Ticket, release: Release | None, by: User) -> Ticket:
    """Link an open ticket to the release that will carry its fix (None: unlink)."""
    require_agent(by)
    if release is not None:
        # Lock order: the release, then its tickets (as `release_publish` does). A release being
        # published makes this wait, then it is seen published.
        release = Release.objects.select_for_update().get(pk=release.pk)
    ticket = locked(ticket)
    if release is not None and release.is_published:
        raise ValidationError(
            {"release": f"Release {release} is already published; plan for a later one."}
        )
    if not ticket.is_open:
        raise ValidationError(f"{ticket.reference} is not open; only open tickets wait for a fix.")
    if ticket.release_id == (release.pk if release else None):
        return ticket
    now = timezone.now()
    ticket.release = release
    touch(ticket, now, "release")
    log_event(
        ticket,
        Event.RELEASE_PLANNED,
        f"Planned for release {release}" if release else "No longer planned for a release",
        actor=by,
        at=now,
        data={"release": release.version if release else None},
    )
    return ticket


@transaction.atomic
def release_publish(*, release: Release, by: User) -> list[Ticket]:
    """Publish the release: resolve its open tickets and tell their customers, once.

    Returns the tickets resolved. Publishing twice is refused (the lock makes two agents
    publishing at once wait for each other, and the second sees it published)."""
    require_agent(by)
    release = Release.objects.select_for_update().get(pk=release.pk)
    if release.is_published:
        raise ValidationError(f"Release {release} was already published.")
    release.published_at = timezone.now()
    release.published_by = by
    release.full_clean()
    release.save(update_fields=["published_at", "published_by"])
    note = f"Fixed in release {release.version}."
    resolved = [
        ticket_resolve(ticket=ticket, by=by, note=note, notify=False)
        for ticket in Ticket.objects.filter(release=release, status__in=OPEN_STATUSES).order_by(
            "pk"
        )
    ]
    by_requester: dict[int, list[int]] = defaultdict(list)
    for ticket in resolved:
        by_requester[ticket.requester_id].append(ticket.pk)
    # Recorded in this transaction: one outgoing notification per customer, sent after commit.
    for ids in by_requester.values():
        emails.release_published(release=release, ticket_ids=ids)
    return resolved
