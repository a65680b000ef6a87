"""The help centre as managers see it: searches that found nothing, the most read articles and
the deflection rate. Four queries whatever the traffic.

Deflection, exactly: each opening of an article suggested on the new-ticket form (an
`ArticleView` with source "suggestion", counted once per article and session) is *deflected*
when the customer who opened it submitted no ticket in the DEFLECTION_WINDOW (30 minutes) that
follows the opening. Openings younger than the window are still *pending* and left out. The
rate is deflected / (openings in the period whose window has closed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, ExpressionWrapper, Max, OuterRef, Q
from django.db.models import DateTimeField as DateTimeOutput

from tickets.kb.models import Article, ArticleView, HelpSearch, ViewSource
from tickets.models import Ticket

DEFLECTION_WINDOW = dt.timedelta(minutes=30)
TOP = 20


@dataclass(frozen=True)
class Unanswered:
    query: str
    searches: int
    last_at: dt.datetime


@dataclass(frozen=True)
class Deflection:
    opened: int  # suggestion openings whose window has closed
    deflected: int
    pending: int  # openings younger than the window

    @property
    def rate(self) -> float | None:
        """Percent, one decimal; None when nothing was opened."""
        return round(100 * self.deflected / self.opened, 1) if self.opened else None


@dataclass(frozen=True)
class HelpReport:
    since: dt.datetime
    until: dt.datetime
    unanswered: list[Unanswered]
    most_viewed: list[Article]
    deflection: Deflection


def unanswered_searches(*, since: dt.datetime, until: dt.datetime) -> list[Unanswered]:
    rows = (
        HelpSearch.objects.filter(results=0, at__gte=since, at__lt=until)
        .values("query")
        .annotate(searches=Count("id"), last_at=Max("at"))
        .order_by("-searches", "-last_at", "query")[:TOP]
    )
    return [Unanswered(r["query"], r["searches"], r["last_at"]) for r in rows]


def most_viewed(*, since: dt.datetime, until: dt.datetime) -> list[Article]:
    """Articles by openings in the period (any source), with `view_count`; two queries."""
    counts = list(
        ArticleView.objects.filter(at__gte=since, at__lt=until)
        .values("article_id")
        .annotate(n=Count("id"))
        .order_by("-n", "article_id")[:TOP]
    )
    articles = Article.objects.select_related("category").in_bulk(
        [row["article_id"] for row in counts]
    )
    ranked = []
    for row in counts:
        article = articles[row["article_id"]]
        article.view_count = row["n"]  # type: ignore[attr-defined]
        ranked.append(article)
    return ranked


def deflection(*, since: dt.datetime, until: dt.datetime, now: dt.datetime) -> Deflection:
    closed_before = min(until, now - DEFLECTION_WINDOW)
    window_end = ExpressionWrapper(
        OuterRef("at") + DEFLECTION_WINDOW, output_field=DateTimeOutput()
    )
    submitted = Ticket.objects.filter(
        requester_id=OuterRef("user_id"), created_at__gte=OuterRef("at"), created_at__lte=window_end
    )
    counts = ArticleView.objects.filter(
        source=ViewSource.SUGGESTION, at__gte=since, at__lt=until, user__isnull=False
    ).aggregate(
        opened=Count("pk", filter=Q(at__lt=closed_before)),
        deflected=Count("pk", filter=Q(at__lt=closed_before) & ~Exists(submitted)),
        pending=Count("pk", filter=Q(at__gte=closed_before)),
    )
    return Deflection(
        opened=counts["opened"], deflected=counts["deflected"], pending=counts["pending"]
    )


def help_report(*, since: dt.datetime, now: dt.datetime) -> HelpReport:
    return HelpReport(
        since=since,
        until=now,
        unanswered=unanswered_searches(since=since, until=now),
        most_viewed=most_viewed(since=since, until=now),
        deflection=deflection(since=since, until=now, now=now),
    )
