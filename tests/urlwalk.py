"""Every URL pattern the resolver knows, as a template to fill in (no hand-written list).

`all_routes()` walks `get_resolver()` recursively (the admin's patterns included) and turns each
pattern into `Route("/tickets/{reference}/", params, name)`. The fuzz and tenant tests fill the
parameters with hostile values or with real objects. Not a test module: tests import it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

_ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    template: str  # "/tickets/{reference}/attachments/{pk}/"
    params: tuple[str, ...]
    name: str  # "tickets:attachment", "admin:tickets_ticket_change"; "" when unnamed

    def fill(self, values: Mapping[str, str]) -> str:
        """The path with each parameter quoted (so `\\x00` travels as `%00`)."""
        return self.template.format(**{k: quote(str(values[k]), safe="") for k in self.params})

    @property
    def is_admin(self) -> bool:
        return self.template.startswith("/admin/")


def _regex_template(regex: str) -> str:
    """`^(?P<app_label>a|b)/$` -> `{app_label}/`: each named group becomes a placeholder."""
    text = regex.removeprefix("^").removesuffix("$").removesuffix(r"\Z")
    out, i = [], 0
    while i < len(text):
        if text.startswith("(?P<", i):
            end = text.index(">", i)
            name = text[i + 4 : end]
            depth, j = 1, end + 1
            while depth:
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                j += 1
            out.append("{" + name + "}")
            i = j
        else:
            out.append(text[i].replace("\\", ""))
            i += 1
    return "".join(out)


def _part(pattern: object) -> str:
    if isinstance(pattern, RoutePattern):
        return _ROUTE_PARAM.sub(lambda m: "{" + m["name"] + "}", str(pattern._route))
    assert isinstance(pattern, RegexPattern), pattern
    return _regex_template(pattern._regex)


def _walk(patterns: list, prefix: str, namespace: list[str]) -> Iterator[Route]:
    for item in patterns:
        if isinstance(item, URLResolver):
            spaces = [*namespace, item.namespace] if item.namespace else namespace
            yield from _walk(item.url_patterns, prefix + _part(item.pattern), spaces)
        elif isinstance(item, URLPattern):
            template = "/" + prefix + _part(item.pattern)
            params = tuple(re.findall(r"\{(\w+)\}", template))
            name = ":".join([*namespace, item.name]) if item.name else ""
            yield Route(template, params, name)


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns, "", []))
