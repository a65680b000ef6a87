"""Reads for the help centre: which articles a viewer may read, search, related articles.

Visibility: anonymous visitors and signed-in people who are not customers read public
articles; a named contact of an organization with an active contract also reads the articles
for every customer and those for their plans (the contract's plan and, while onboarding is
incomplete, the base tier whose support applies); agents (staff) read every published article,
and drafts through the article page (the admin's preview).
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404

from plans.selectors import contract_active, effective_plan
from tickets.kb.models import Article, ArticleCategory, ArticleStatus, ArticleTag, Visibility
from tickets.kb.search import SearchHit, search
from tickets.selectors import contact_for

Viewer = User | AnonymousUser

SEARCH_LIMIT = 10
SUGGESTION_LIMIT = 5
RELATED_LIMIT = 5


def viewer_plan_ids(*, user: Viewer) -> set[int] | None:
    """The plans whose articles the viewer reads; None for someone who is not a customer."""
    if not user.is_authenticated:
        return None
    cached = getattr(user, "_kb_plan_ids", False)
    if cached is not False:
        return cached  # type: ignore[return-value]
    contact = contact_for(user=user)
    plan_ids: set[int] | None = None
    if contact is not None:
        contract = contract_active(organization=contact.organization)
        if contract is not None:
            plan_ids = {contract.plan_id, effective_plan(contract=contract).pk}
    user._kb_plan_ids = plan_ids  # type: ignore[attr-defined]
    return plan_ids


def is_staff(user: Viewer) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def visible_articles(*, user: Viewer) -> QuerySet[Article]:
    """Published articles the viewer may read (no ordering, no joins)."""
    articles = Article.objects.filter(status=ArticleStatus.PUBLISHED)
    if is_staff(user):
        return articles
    plan_ids = viewer_plan_ids(user=user)
    if plan_ids is None:
        return articles.filter(visibility=Visibility.PUBLIC)
    # A correlated count, looked up per article by the (article, plan) unique index. (An EXISTS
    # under OR makes PostgreSQL hash every article of the plans first, on every search.)
    on_plans = Subquery(
        Article.plans.through.objects.filter(
            article_id=OuterRef("pk"), plan_id__in=sorted(plan_ids)
        )
        .order_by()
        .values("article_id")
        .annotate(n=Count("pk"))  # type: ignore[misc]
        .values("n")[:1],
        output_field=IntegerField(),
    )
    return articles.alias(on_plans=on_plans).filter(
        Q(visibility__in=[Visibility.PUBLIC, Visibility.CUSTOMERS])
        | Q(visibility=Visibility.PLANS, on_plans__gt=0)
    )


def _for_list(articles: QuerySet[Article]) -> QuerySet[Article]:
    return articles.select_related("category").prefetch_related(
        Prefetch("tags", queryset=ArticleTag.objects.order_by("name"))
    )


def help_articles(
    *, user: Viewer, category: ArticleCategory | None = None, tag: ArticleTag | None = None
) -> QuerySet[Article]:
    """The help centre's list: by category, then title."""
    articles = visible_articles(user=user)
    if category is not None:
        articles = articles.filter(category=category)
    if tag is not None:
        articles = articles.filter(tags=tag)
    return (
        _for_list(articles)
        .defer("body", "body_html", "body_text", "search_vector")
        .order_by("category__position", "category__name", "title")
    )


def help_categories(*, user: Viewer) -> list[ArticleCategory]:
    """Categories with at least one article the viewer may read, with that count."""
    visible = visible_articles(user=user).filter(category_id=OuterRef("pk"))
    return list(
        ArticleCategory.objects.filter(Exists(visible))
        .annotate(
            article_count=Count(
                "articles",
                filter=Q(articles__in=visible_articles(user=user).values("pk")),
            )
        )
        .order_by("position", "name")
    )


def category_by_slug(slug: str) -> ArticleCategory | None:
    return ArticleCategory.objects.filter(slug=slug).first() if slug else None


def tag_by_slug(slug: str) -> ArticleTag | None:
    return ArticleTag.objects.filter(slug=slug).first() if slug else None


def article_for_viewer(*, user: Viewer, slug: str) -> Article:
    """A published article the viewer may read, or any article for agents (preview); else 404
    (an outsider cannot learn that a private article exists)."""
    articles = Article.objects.all() if is_staff(user) else visible_articles(user=user)
    article = _for_list(articles).filter(slug=slug).first()
    if article is None:
        raise Http404("No such article.")
    return article


def related_articles(*, article: Article, user: Viewer) -> list[Article]:
    """Readable articles sharing the category or a tag, the most shared tags first."""
    tag_ids = [tag.pk for tag in article.tags.all()]  # prefetched by article_for_viewer
    near = Q(tags__in=tag_ids) if tag_ids else Q(pk__in=[])
    if article.category_id:
        near |= Q(category_id=article.category_id)
    return list(
        visible_articles(user=user)
        .filter(near)
        .exclude(pk=article.pk)
        .annotate(shared=Count("tags", filter=Q(tags__in=tag_ids), distinct=True))
        .order_by("-shared", "title")
        .only("title", "slug", "summary")[:RELATED_LIMIT]
    )


def search_articles(*, user: Viewer, text: str, limit: int = SEARCH_LIMIT) -> list[SearchHit]:
    """Readable articles matching every word of `text` (PostgreSQL: websearch syntax, so
    "or" and quoted phrases work), best first, with highlighted snippets."""
    return search(visible_articles(user=user), text, limit=limit, match_any=False)


def suggestions(*, user: Viewer, subject: str) -> list[SearchHit]:
    """Articles for a ticket subject being typed: any of its words, best first."""
    if len(subject.strip()) < 3:
        return []
    return search(visible_articles(user=user), subject, limit=SUGGESTION_LIMIT, match_any=True)


def admin_article_choices(*, subject: str, limit: int = 100) -> tuple[list[SearchHit], list]:
    """For the agent's reply box: articles matching the ticket's subject, then all published
    ones by title (title and slug only)."""
    published = Article.objects.filter(status=ArticleStatus.PUBLISHED)
    matching = search(published, subject, limit=SUGGESTION_LIMIT, match_any=True)
    everything = list(published.order_by("title").values_list("title", "slug")[:limit])
    return matching, everything


def backend() -> str:
    """`postgresql` (ranked full-text search) or `plain` (the embedded default's fallback)."""
    return "postgresql" if connection.vendor == "postgresql" else "plain"
