"""Maintenance releases ("planned for 4.2"). Imported by `tickets.models` (app label `tickets`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse


class Release(models.Model):
    version = models.CharField(max_length=40, unique=True)
    planned_on = models.DateField(null=True, blank=True, help_text="Planned release date.")
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    notes = models.TextField(blank=True, help_text="Release notes (Markdown), shown to customers.")

    class Meta:
        ordering = ["-planned_on", "-id"]

    def __str__(self) -> str:
        return self.version

    def get_absolute_url(self) -> str:
        return reverse("admin:tickets_release_change", args=[self.pk])

    @property
    def is_published(self) -> bool:
        return self.published_at is not None
