"""Agents write and publish help articles here: a preview, the change history (one revision per
save, written by `tickets.kb.services`), and the actions on the ticket queue that draft an
article from a resolved ticket. Registered from `tickets.admin` with one import."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from helpdesk.http import signed_in_user
from plans.admin import EMPTY, admin_link
from tickets.kb import services
from tickets.kb.models import (
    Article,
    ArticleCategory,
    ArticleRevision,
    ArticleTag,
    HelpSearch,
)
from tickets.kb.selectors import admin_article_choices
from tickets.models import Ticket


class ArticleForm(forms.ModelForm):
    note = forms.CharField(
        label="Change note",
        max_length=200,
        required=False,
        help_text="What this edit changes (kept in the history).",
    )

    class Meta:
        model = Article
        fields = ["title", "slug", "summary", "category", "tags", "visibility", "plans", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 20, "cols": 100})}


class RevisionInline(admin.TabularInline):
    model = ArticleRevision
    fields = ("number", "at", "by", "status", "visibility", "title", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "change history"
    ordering = ["-number"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ArticleRevision]:
        return super().get_queryset(request).select_related("by")


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    form = ArticleForm
    list_display = ["title", "category", "visibility", "status", "published_at", "updated_at"]
    list_filter = ["status", "visibility", "category"]
    list_select_related = ["category"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["tags", "plans"]
    readonly_fields = ["status", "published_at", "source", "preview"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "category", "tags"]}),
        ("Who may read it", {"fields": ["visibility", "plans", "status", "published_at"]}),
        (None, {"fields": ["body", "note"]}),
        ("Preview", {"fields": ["preview", "source"]}),
    ]
    inlines = [RevisionInline]
    actions = ["publish", "unpublish"]

    @admin.display(description="as customers see it")
    def preview(self, obj: Article) -> SafeString | str:
        if obj.pk is None:
            return "Save the draft to preview it."
        return format_html(
            '<div class="kb-preview" style="max-width:48rem;border:1px solid #ddd;padding:1rem">'
            '<h2>{}</h2>{}</div><p><a href="{}">Open the article page</a> (drafts are shown '
            "to agents only).</p>",
            obj.title,
            SafeString(obj.body_html),  # rendered and sanitized by render_markdown
            obj.get_absolute_url(),
        )

    @admin.display(description="drafted from")
    def source(self, obj: Article) -> SafeString | str:
        return admin_link(obj.source_ticket) if obj.source_ticket is not None else EMPTY

    def save_model(self, request: HttpRequest, obj: Article, form: Any, change: bool) -> None:
        note = form.cleaned_data.get("note") or ("Edited" if change else "Created")
        services.article_save(article=obj, by=signed_in_user(request), note=note)

    def _each(
        self, request: HttpRequest, queryset: QuerySet[Article], call: Any, done: str
    ) -> None:
        count = 0
        for article in queryset:
            try:
                call(article=article, by=request.user)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, f"{count} article(s) {done}.", messages.SUCCESS)

    @admin.action(description="Publish")
    def publish(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        self._each(request, queryset, services.article_publish, "published")

    @admin.action(description="Unpublish (back to draft)")
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        self._each(request, queryset, services.article_unpublish, "unpublished")


@admin.register(ArticleCategory)
class ArticleCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(ArticleTag)
class ArticleTagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(HelpSearch)
class HelpSearchAdmin(admin.ModelAdmin):
    list_display = ["query", "results", "at"]
    list_filter = ["results"]
    search_fields = ["query"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# -- on the ticket queue and the ticket page --------------------------------------------------


@admin.action(description="Draft a help article from the resolved ticket")
def draft_article(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Ticket]
) -> HttpResponseRedirect | None:
    drafted = []
    for ticket in queryset:
        try:
            by = signed_in_user(request)
            drafted.append(services.article_draft_from_ticket(ticket=ticket, by=by))
        except ValidationError as error:
            modeladmin.message_user(request, " ".join(error.messages), messages.ERROR)
    if not drafted:
        return None
    modeladmin.message_user(
        request,
        f"{len(drafted)} draft article(s) written: edit them before publishing.",
        messages.SUCCESS,
    )
    if len(drafted) == 1:
        return HttpResponseRedirect(reverse("admin:tickets_article_change", args=[drafted[0].pk]))
    return None


def article_links(ticket: Ticket) -> dict[str, Any]:
    """The reply box's article picker: Markdown links, the ticket's matches first."""
    matching, everything = admin_article_choices(subject=ticket.subject)
    site = settings.SITE_URL.rstrip("/")
    return {
        "kb_matching": [(hit.title, f"[{hit.title}]({site}{hit.url})") for hit in matching],
        "kb_articles": [
            (title, f"[{title}]({site}{reverse('kb:article', args=[slug])})")
            for title, slug in everything
        ],
    }
