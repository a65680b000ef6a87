"""Writes for the knowledge base: save (with a revision), publish, draft from a ticket, and
the reading records (views, searches) that the managers' report counts.

The search vector is refreshed here, on every save, never by a signal.
"""

from __future__ import annotations

import html

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import slugify

from tickets.kb.models import (
    Article,
    ArticleRevision,
    ArticleStatus,
    ArticleView,
    HelpSearch,
    ViewSource,
    Visibility,
)
from tickets.kb.search import search_vector
from tickets.markdown import render_markdown
from tickets.models import Message, Status, Ticket
from tickets.services._common import require_agent

Viewer = User | AnonymousUser


def plain_text(body_html: str) -> str:
    """The rendered body without tags or entities: what search reads and highlights."""
    return " ".join(html.unescape(strip_tags(body_html)).split())


def _unique_slug(title: str, *, exclude: int | None) -> str:
    base = slugify(title)[:180] or "article"
    slug, n = base, 1
    while Article.objects.filter(slug=slug).exclude(pk=exclude or 0).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _refresh_search_vector(article: Article) -> None:
    if connection.vendor == "postgresql":
        Article.objects.filter(pk=article.pk).update(search_vector=search_vector())


def _revision(article: Article, *, by: User | None, note: str) -> ArticleRevision:
    last = article.revisions.aggregate(n=Max("number"))["n"] or 0
    return ArticleRevision.objects.create(
        article=article,
        number=last + 1,
        title=article.title,
        body=article.body,
        visibility=article.visibility,
        status=article.status,
        note=note[:200],
        by=by,
        at=article.updated_at,
    )


@transaction.atomic
def article_save(*, article: Article, by: User | None, note: str = "Edited") -> Article:
    """Create or update an article as the agent left it: render and sanitize the body (as
    messages are), keep the search vector current, record a revision."""
    if by is not None:
        require_agent(by)
    now = timezone.now()
    if article.pk is None:
        article.created_at = now
        article.created_by = by
        note = "Created" if note == "Edited" else note
    article.updated_at = now
    if not article.slug:
        article.slug = _unique_slug(article.title, exclude=article.pk)
    article.body_html = render_markdown(article.body)
    article.body_text = plain_text(article.body_html)
    article.full_clean(exclude=["search_vector", "plans", "tags"])
    article.save()
    _refresh_search_vector(article)
    _revision(article, by=by, note=note)
    return article


@transaction.atomic
def article_publish(*, article: Article, by: User) -> Article:
    require_agent(by)
    article = Article.objects.select_for_update().get(pk=article.pk)
    if article.is_published:
        return article
    if article.visibility == Visibility.PLANS and not article.plans.exists():
        raise ValidationError(
            {"plans": f"“{article}” is for the plans named, but names none: pick the plans first."}
        )
    article.status = ArticleStatus.PUBLISHED
    article.published_at = timezone.now()
    return article_save(article=article, by=by, note="Published")


@transaction.atomic
def article_unpublish(*, article: Article, by: User) -> Article:
    require_agent(by)
    article = Article.objects.select_for_update().get(pk=article.pk)
    if not article.is_published:
        return article
    article.status = ArticleStatus.DRAFT
    article.published_at = None
    return article_save(article=article, by=by, note="Unpublished")


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.strip().splitlines())


@transaction.atomic
def article_draft_from_ticket(*, ticket: Ticket, by: User) -> Article:
    """A draft for every customer from a resolved ticket: its subject, the customer's first
    message as the problem, support's last public reply as the answer. Agents edit it (and
    remove anything about the customer) before publishing."""
    require_agent(by)
    if ticket.status not in (Status.RESOLVED, Status.CLOSED) or ticket.out_of_scope_reason:
        raise ValidationError(
            f"{ticket.reference} is not resolved; only a solved problem makes an article."
        )
    public = ticket.messages.filter(kind=Message.Kind.PUBLIC)
    problem = public.filter(from_customer=True).order_by("created_at", "id").first()
    answer = public.filter(from_customer=False).order_by("-created_at", "-id").first()
    parts = ["## Problem", problem.body.strip() if problem else ticket.subject]
    parts += ["", "## Solution", answer.body.strip() if answer else "_Describe the fix._"]
    article = Article(
        title=ticket.subject[:200],
        body="\n".join(parts),
        visibility=Visibility.CUSTOMERS,
        source_ticket=ticket,
    )
    return article_save(article=article, by=by, note=f"Drafted from {ticket.reference}")


# -- reading records --------------------------------------------------------------------------


def article_view_record(
    *, article: Article, user: Viewer, session_key: str, source: str
) -> ArticleView | None:
    """Count an opening of an article. A suggestion opened again in the same session is counted
    once (the deflection rate counts visits, not reloads)."""
    if source not in ViewSource.values:
        source = ViewSource.HELP
    user_id = user.pk if user.is_authenticated else None
    if (
        source == ViewSource.SUGGESTION
        and session_key
        and ArticleView.objects.filter(
            article=article, session_key=session_key, source=source
        ).exists()
    ):
        return None
    return ArticleView.objects.create(
        article=article,
        user_id=user_id,
        session_key=session_key[:40],
        source=source,
        at=timezone.now(),
    )


def help_search_record(*, query: str, results: int, user: Viewer) -> HelpSearch:
    return HelpSearch.objects.create(
        query=" ".join(query.lower().split())[:200],
        results=results,
        user_id=user.pk if user.is_authenticated else None,
        at=timezone.now(),
    )
