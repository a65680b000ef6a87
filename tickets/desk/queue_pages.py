"""The queue's pages: counted no further than a few pages ahead, read through the queue's indexes.

The changelist asks its paginator for a count and a page. Here the count stops a few pages past
the one asked for (the page shows "10,000+ tickets" and links that far; going further moves the
limit on), and the default view of open tickets, filtered or not by standing, assignee or
queue, reads its page part by part in the queue's order (`tickets.queue_order.page_rows`).
Other views (closed tickets, a search, an explicit column sort, other filters) sort their rows
with one ORDER BY, as the database would for any list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from django.contrib.admin.views.main import ORDER_VAR, PAGE_VAR, SEARCH_VAR
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import QuerySet
from django.http import HttpRequest

from helpdesk.http import parse_int
from sla.standing import URGENCY, Standing
from tickets.models import Ticket
from tickets.queue_order import capped_count, open_ranks, page_rows

COUNT_CAP = 10_000
"""The paginator counts this many rows at least, and no more unless a later page is asked for."""

PAGES_AHEAD = 10
"""How many pages past the one asked for are counted (and linked) beyond `COUNT_CAP`."""

INDEXED_FILTERS = frozenset({"sla", "assigned", "queue__id__exact", "queue__isnull"})
"""The filters the queue's indexes serve (with the default view of open tickets)."""


class QueuePaginator(Paginator):
    """Counts at most `limit` rows; pages of the indexed views come from `page_rows`."""

    def __init__(
        self,
        object_list: QuerySet[Ticket],
        per_page: int,
        *,
        page_asked: int,
        now: dt.datetime,
        indexed: bool,
        urgencies: Sequence[int] | None = None,
    ) -> None:
        super().__init__(object_list, per_page)
        self.tickets = object_list
        self.limit = max(COUNT_CAP, (page_asked + PAGES_AHEAD) * per_page) + 1
        self.now = now
        self.indexed = indexed
        self.urgencies = urgencies

    @cached_property
    def ranks(self) -> list[int] | None:
        """The ranks of open tickets, so each part of a page reads one index range per rank
        (PostgreSQL; SQLite reads its few rows as they come)."""
        if connections[self.tickets.db].vendor != "postgresql":
            return None
        return open_ranks()

    @cached_property
    def count(self) -> int:
        if not self.indexed:
            return capped_count(self.tickets, limit=self.limit)
        # Read the ranks whether the view has one page or many: the same queries either way.
        ranks = self.ranks
        if self.urgencies is None:
            # Every standing counts: the view's rows in one index range, no parts needed.
            return capped_count(self.tickets, limit=self.limit)
        return capped_count(
            self.tickets, limit=self.limit, now=self.now, urgencies=self.urgencies, ranks=ranks
        )

    @property
    def capped(self) -> bool:
        """More rows exist than were counted."""
        return self.count >= self.limit

    @property
    def shown_count(self) -> str:
        """`1,234` or, past the limit, `10,000+`."""
        if self.capped:
            return f"{self.limit - 1:,}+"
        return f"{self.count:,}"

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        if not self.indexed:
            return Page(self.tickets[bottom:top], number, self)
        rows = page_rows(
            self.tickets,
            now=self.now,
            start=bottom,
            stop=top,
            urgencies=self.urgencies,
            ranks=self.ranks,
        )
        return Page(rows, number, self)


def queue_paginator(
    request: HttpRequest,
    queryset: QuerySet[Ticket],
    per_page: int,
    *,
    now: dt.datetime,
    standing: Standing | None,
) -> QueuePaginator:
    """The paginator for this view of the queue (`TicketAdmin.get_paginator`); `standing`: the
    one the view is filtered by, if any."""
    params = request.GET
    page_asked = parse_int(params.get(PAGE_VAR), max_digits=9) or 1
    filters = set(params) - {PAGE_VAR}
    indexed = (
        filters <= INDEXED_FILTERS | {SEARCH_VAR}
        and not params.get(SEARCH_VAR, "").strip()
        and ORDER_VAR not in params
    )
    urgencies = [URGENCY[standing]] if standing is not None else None
    return QueuePaginator(
        queryset,
        per_page,
        page_asked=page_asked,
        now=now,
        indexed=indexed,
        urgencies=urgencies,
    )
