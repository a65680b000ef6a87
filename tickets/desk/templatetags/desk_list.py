"""`{% desk_result_list cl %}`: Django's `{% result_list cl %}` with the rows written by
`helpdesk.adminkit.ChangeListRows` (the same HTML, without the per-cell machinery)."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.admin.templatetags.admin_list import (
    ResultList,
    result_headers,
    result_hidden_fields,
    results,
)
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.contrib.admin.views.main import ChangeList
from django.template.base import Parser, Token
from django.utils.safestring import SafeString

from helpdesk.adminkit import ChangeListRows

register = template.Library()


def desk_result_list(cl: ChangeList) -> dict[str, Any]:
    """The context of Django's `result_list` tag (headers, hidden fields, rows)."""
    headers = list(result_headers(cl))
    rows = ChangeListRows(cl).rows()
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        # A row's cells as one item: the template writes the row's items one after another.
        "results": list(results(cl))
        if rows is None
        else [ResultList(None, [SafeString("".join(row))]) for row in rows],
    }


@register.tag(name="desk_result_list")
def desk_result_list_tag(parser: Parser, token: Token) -> InclusionAdminNode:
    return InclusionAdminNode(
        parser,
        token,
        func=desk_result_list,
        template_name="change_list_results.html",
        takes_context=False,
    )
