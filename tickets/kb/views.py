"""The help centre: `/help/` (browse and search), article pages, the suggestions the new-ticket
form fetches, and the managers' report. Views parse input, ask the selectors, record the
reading (one service call) and render."""

from __future__ import annotations

import datetime as dt

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from plans.roles import manager_required
from tickets.kb import reports, selectors, services
from tickets.kb.models import ViewSource

PAGE_SIZE = 30
QUERY_CHARS = 200
REPORT_DAYS = (7, 30, 90, 365)


def _session_key(request: HttpRequest) -> str:
    return request.session.session_key or ""


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    q = " ".join(request.GET.get("q", "").split())[:QUERY_CHARS]
    category = selectors.category_by_slug(request.GET.get("category", ""))
    tag = selectors.tag_by_slug(request.GET.get("tag", ""))
    context: dict = {"q": q, "category": category, "tag": tag, "backend": selectors.backend()}
    if q:
        hits = selectors.search_articles(user=request.user, text=q)
        services.help_search_record(query=q, results=len(hits), user=request.user)
        context["hits"] = hits
    else:
        articles = selectors.help_articles(user=request.user, category=category, tag=tag)
        context["page"] = Paginator(articles, PAGE_SIZE).get_page(request.GET.get("page"))
        context["categories"] = selectors.help_categories(user=request.user)
        query = request.GET.copy()
        query.pop("page", None)
        context["query"] = query.urlencode()
    return render(request, "kb/index.html", context)


@require_GET
def article(request: HttpRequest, slug: str) -> HttpResponse:
    found = selectors.article_for_viewer(user=request.user, slug=slug)
    if found.is_published:
        source = (
            ViewSource.SUGGESTION
            if request.GET.get("from") == ViewSource.SUGGESTION
            else ViewSource.HELP
        )
        services.article_view_record(
            article=found, user=request.user, session_key=_session_key(request), source=source
        )
    return render(
        request,
        "kb/article.html",
        {
            "article": found,
            "related": selectors.related_articles(article=found, user=request.user),
            "from_suggestion": request.GET.get("from") == ViewSource.SUGGESTION,
        },
    )


@require_GET
def suggest(request: HttpRequest) -> JsonResponse:
    """Articles for a ticket subject being typed (the new-ticket form's script)."""
    subject = request.GET.get("q", "")[:QUERY_CHARS]
    hits = selectors.suggestions(user=request.user, subject=subject)
    return JsonResponse(
        {
            "articles": [
                {
                    "title": hit.title,
                    "url": f"{hit.url}?from={ViewSource.SUGGESTION}",
                    "snippet_html": str(hit.snippet),
                }
                for hit in hits
            ]
        }
    )


@manager_required
@require_GET
def report(request: HttpRequest) -> HttpResponse:
    days_text = request.GET.get("days", "30")
    days = int(days_text) if days_text.isdigit() and int(days_text) in REPORT_DAYS else 30
    now = timezone.now()
    return render(
        request,
        "kb/report.html",
        {
            "report": reports.help_report(since=now - dt.timedelta(days=days), now=now),
            "days": days,
            "day_choices": REPORT_DAYS,
            "window_minutes": int(reports.DEFLECTION_WINDOW.total_seconds() // 60),
        },
    )
