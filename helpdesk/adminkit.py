"""The read-only admin base every layer's admin uses (a leaf: imports only Django).

Append-only logs and rows that only the services write are shown in the admin and never added,
changed or deleted there. `ReadOnlyAdmin` and `ReadOnlyInline` say so once; `NoAddDeleteMixin`
is for rows agents may edit through the admin but never create or remove by hand.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest


class NoAddDeleteMixin:
    """Rows made by the services and kept for the record: never added or deleted by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyMixin(NoAddDeleteMixin):
    """Viewable only: nothing is added, changed or deleted through the admin."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    view_on_site = False


class ReadOnlyInline(ReadOnlyMixin, admin.TabularInline):
    """Rows shown as a table: changed elsewhere (through the services), never here."""

    extra = 0
    can_delete = False
    view_on_site = False
