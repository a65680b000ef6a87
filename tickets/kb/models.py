"""Knowledge-base articles, their history, and what readers searched and opened.

Imported by `tickets.models`, so the app label stays `tickets`.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.urls import reverse

from plans.models import Plan


class ArticleCategory(models.Model):
    """A section of the help centre (Getting started, Billing, API ...)."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "article categories"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return f"{reverse('kb:index')}?category={self.slug}"


class ArticleTag(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=60)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return f"{reverse('kb:index')}?tag={self.slug}"


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public (anyone, signed in or not)"
    CUSTOMERS = "customers", "Every customer"
    PLANS = "plans", "Customers on the plans named"


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class Article(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    summary = models.CharField(max_length=300, blank=True, help_text="One line for lists.")
    body = models.TextField(help_text="Markdown: **bold**, `code`, lists, tables and links.")
    body_html = models.TextField(editable=False, help_text="Rendered and sanitized.")
    # The body as plain text (no Markdown, no tags): what search reads and highlights.
    body_text = models.TextField(editable=False)
    category = models.ForeignKey(
        ArticleCategory, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles"
    )
    tags = models.ManyToManyField(ArticleTag, blank=True, related_name="articles")
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.CUSTOMERS
    )
    plans = models.ManyToManyField(
        Plan, blank=True, related_name="articles", help_text="For 'customers on the plans named'."
    )
    status = models.CharField(
        max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT, editable=False
    )
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    source_ticket = models.ForeignKey(
        "tickets.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        help_text="The resolved ticket this article was drafted from.",
    )
    # PostgreSQL only: title (weight A) over body (weight B), kept up to date by
    # `tickets.kb.services`, GIN-indexed by the migration. The column exists on SQLite too and
    # stays empty there (search falls back to a plain query).
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(editable=False)
    updated_at = models.DateTimeField(editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["title"]
        constraints = [
            # Published articles carry their publication instant; drafts do not.
            models.CheckConstraint(
                condition=Q(status="draft", published_at__isnull=True)
                | Q(status="published", published_at__isnull=False),
                name="article_published_at_iff_published",
            ),
        ]
        indexes = [
            # The help centre's lists by category. Not partial on status: PostgreSQL would AND
            # such an index into every search's bitmap for nothing.
            models.Index(fields=["category", "-published_at"], name="article_by_category"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("kb:article", args=[self.slug])

    @property
    def is_published(self) -> bool:
        return self.status == ArticleStatus.PUBLISHED


class ArticleRevision(models.Model):
    """The article as one save left it: who, when, what (the change history)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()
    visibility = models.CharField(max_length=10, choices=Visibility.choices)
    status = models.CharField(max_length=10, choices=ArticleStatus.choices)
    note = models.CharField(max_length=200, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="article_revision_once"),
        ]

    def __str__(self) -> str:
        return f"{self.article} r{self.number}"


class ViewSource(models.TextChoices):
    HELP = "help", "Help centre"
    SUGGESTION = "suggestion", "Suggested while writing a ticket"


class ArticleView(models.Model):
    """One opening of an article: the most-viewed list and the deflection rate count these."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="views")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    session_key = models.CharField(max_length=40, blank=True)
    source = models.CharField(max_length=12, choices=ViewSource.choices, default=ViewSource.HELP)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["at", "article"], name="article_view_at"),
            # Deflection: the suggestions opened in a period.
            models.Index(
                fields=["at", "user"],
                name="article_view_suggested",
                condition=Q(source="suggestion"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.article} viewed {self.at:%Y-%m-%d %H:%M}"


class HelpSearch(models.Model):
    """A search in the help centre and how many articles it found (0: a gap to write)."""

    query = models.CharField(max_length=200, help_text="Lower-cased, blanks collapsed.")
    results = models.PositiveIntegerField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "help searches"
        indexes = [
            models.Index(
                fields=["at", "query"], name="help_search_unanswered", condition=Q(results=0)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.query!r}: {self.results}"
