"""Display helpers, shared with sla's and tickets' admin."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import models
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString

from plans.models import (
    Channel,
    Severity,
)

EMPTY = "-"


def admin_link(obj: models.Model, text: object | None = None) -> SafeString:
    """A link to the object's change page."""
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, obj if text is None else text)


def changelist_link(model: str, text: object, **filters: str | int) -> SafeString:
    """A link to a changelist (`app_label.model`) with `field__id__exact=` style filters."""
    app_label, model_name = model.split(".")
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, urlencode(filters), text)


def add_link(model: str, text: str, **initial: str | int) -> SafeString:
    """A link to an add page with fields filled in from the query string."""
    app_label, model_name = model.split(".")
    url = reverse(f"admin:{app_label}_{model_name}_add")
    return format_html('<a class="addlink" href="{}?{}">{}</a>', url, urlencode(initial), text)


def html_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> SafeString:
    """A read-only table; cells are escaped unless already safe (links)."""
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows),
    )
    if not body:
        return format_html("<p>{}</p>", "None yet.")
    head = format_html_join("", "<th>{}</th>", ((header,) for header in headers))
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


def channels_text(channels: list[str]) -> str:
    labels = dict(Channel.choices)
    return ", ".join(str(labels.get(channel, channel)) for channel in channels) or EMPTY


def levels_text(levels: list[int]) -> str:
    return ", ".join(str(level) for level in levels) or EMPTY


def unknown_levels(policy_id: int | None, levels: Iterable[int]) -> list[int]:
    """The levels that the policy defines no severity for."""
    if policy_id is None:
        return []
    known = set(Severity.objects.filter(policy_id=policy_id).values_list("level", flat=True))
    return sorted(set(levels) - known)
