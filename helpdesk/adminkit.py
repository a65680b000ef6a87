"""The admin kit every layer's admin uses (a leaf: imports only Django).

Append-only logs and rows that only the services write are shown in the admin and never added,
changed or deleted there. `ReadOnlyAdmin` and `ReadOnlyInline` say so once; `NoAddDeleteMixin`
is for rows agents may edit through the admin but never create or remove by hand.

`DeskAdminSite` is the admin site, listing its apps only where a page shows them;
`ChangeListRows` writes a changelist's rows once per page (the queue's, through
`{% desk_result_list %}`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from django.contrib import admin
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import display_for_field, display_for_value
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.db.models import Field
from django.db.models.options import Options
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString


class DeskAdminSite(admin.AdminSite):
    """Django's admin site (`admin.site`, through `helpdesk.apps.DeskAdminConfig`), listing the
    apps and models only where a page shows the list: every admin page asks for it for its side
    navigation, which the queue hides, and the list costs two `reverse()` calls per model."""

    def get_app_list(
        self, request: HttpRequest, app_label: str | None = None
    ) -> list[dict[str, Any]]:
        def app_list() -> list[dict[str, Any]]:
            return admin.AdminSite.get_app_list(self, request, app_label)

        return cast(list[dict[str, Any]], SimpleLazyObject(app_list))


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


# --------------------------------------------------------------------------------------------
# Changelist rows, written once per page rather than once per cell


ROW_PK_SLOT = "4815162342"
"""A stand-in primary key: the change URL is reversed once with it, then each row's pk goes in
its place (digits: admin quoting and URL quoting leave it as it is)."""


def _model_field(opts: Options[Any], name: str) -> Field | None:
    """The model field a column shows, as the admin's `lookup_field` finds it: None for a name
    that is no field, a generic or reverse relation, or a foreign key's `_id` column."""
    try:
        field: Any = opts.get_field(name)
    except FieldDoesNotExist:
        return None
    if field.is_relation:
        if (field.many_to_one and not field.related_model) or field.one_to_many:
            return None
        if not field.many_to_many and getattr(field, "attname", None) == name:
            return None
    return field


@dataclass(frozen=True)
class _Column:
    name: str
    classes: list[str]
    link: bool
    tag: str
    field: Field | None
    method: Callable[[Any], Any] | None
    empty: str


class ChangeListRows:
    """The cells of a changelist page exactly as Django's `items_for_result` writes them, with
    what is the same for every row worked out once: each column's kind, classes and empty
    value, and the change URL (one `reverse()` and one look at the preserved filters per page,
    not two per row). Only for the plain case: `rows()` is None for a changelist with an
    editable formset, a popup, a `to_field`, or a column that is neither a model field nor a
    `ModelAdmin` method; the caller then uses Django's own."""

    def __init__(self, cl: ChangeList) -> None:
        self.cl = cl
        self.columns = self._columns()

    def _columns(self) -> list[_Column] | None:
        cl = self.cl
        if cl.formset or cl.is_popup or cl.to_field or cl.list_display_links is None:
            return None
        model_admin = cl.model_admin
        default_empty = model_admin.get_empty_value_display()
        columns, first = [], True
        for name in cl.list_display:
            if not isinstance(name, str):
                return None
            link = (first and not cl.list_display_links) or name in cl.list_display_links
            tag = "td"
            if link:
                tag, first = ("th" if first else "td"), False
            field = _model_field(cl.lookup_opts, name)
            if field is not None:
                if field.auto_created:
                    return None
                classes = [f"field-{name}"]
                if isinstance(field, models.DateField | models.TimeField | models.ForeignKey):
                    classes.append("nowrap")
                columns.append(_Column(name, classes, link, tag, field, None, default_empty))
                continue
            if name == "__str__" or not hasattr(model_admin, name):
                return None
            method = getattr(model_admin, name)
            if not callable(method) or getattr(method, "boolean", False):
                return None
            empty = getattr(method, "empty_value_display", default_empty)
            classes = ["action-checkbox" if name == "action_checkbox" else f"field-{name}"]
            columns.append(_Column(name, classes, link, tag, None, method, empty))
        return columns

    def _change_url(self) -> tuple[str, str] | None:
        """The change URL around the row's pk, with the page's filters preserved, escaped."""
        cl = self.cl
        opts = cl.opts
        try:
            url = reverse(
                f"admin:{opts.app_label}_{opts.model_name}_change",
                args=(ROW_PK_SLOT,),
                current_app=cl.model_admin.admin_site.name,
            )
        except NoReverseMatch:
            return None
        url = add_preserved_filters({"preserved_filters": cl.preserved_filters, "opts": opts}, url)
        path, mark, query = url.partition("?")
        before, slot, after = path.partition(ROW_PK_SLOT)
        if not slot:
            raise LookupError("the change URL does not show the pk as it is")
        return str(escape(before)), str(escape(after + mark + query))

    def rows(self) -> list[list[SafeString]] | None:
        if self.columns is None:
            return None
        try:
            url = self._change_url() if any(c.link for c in self.columns) else None
        except LookupError:
            return None
        pk_name = self.cl.lookup_opts.pk.attname
        rows = []
        for result in self.cl.result_list:
            pk = getattr(result, pk_name)
            if url is not None and type(pk) is not int:
                return None  # a pk that quoting could change: Django's own path
            rows.append([self._cell(column, result, pk, url) for column in self.columns])
        return rows

    def _cell(
        self, column: _Column, result: Any, pk: Any, url: tuple[str, str] | None
    ) -> SafeString:
        classes = column.classes
        try:
            if column.method is not None:
                value = column.method(result)
                if isinstance(value, str) and value.strip() == "":
                    value = ""
                shown = display_for_value(value, column.empty)
                if isinstance(value, dt.date | dt.time):
                    classes = [*classes, "nowrap"]
            else:
                field = column.field
                assert field is not None
                value = getattr(result, column.name)
                if isinstance(value, str) and value.strip() == "":
                    value = ""
                if isinstance(field.remote_field, models.ManyToOneRel):
                    shown = column.empty if value is None else value
                else:
                    shown = display_for_field(value, field, column.empty, avoid_link=column.link)
        except ObjectDoesNotExist:
            shown, classes = column.empty, [f"field-{column.name}"]
        text: str = conditional_escape(shown)
        if column.link and url is not None:
            text = f'<a href="{url[0]}{pk}{url[1]}">{text}</a>'
        tag = column.tag
        return SafeString(f'<{tag} class="{" ".join(classes)}">{text}</{tag}>')
