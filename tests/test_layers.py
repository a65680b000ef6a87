"""The layers, read from the source: domain apps depend one way (`tickets -> sla -> plans`), and
the presentation on top (`tickets.portal`, `tickets.desk`, `tickets.reports`) is imported by
nobody. A module breaks the order by an import, an ORM lookup string, an app-label model reference
or a URL that points at a layer above it. Imports inside functions must say why on their line.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRESENTATION = ("tickets.portal", "tickets.desk", "tickets.reports")
RANK = {"plans": 0, "sla": 1, "tickets": 2}

# What a module of each domain app may not mention, as text in its source (beyond imports).
FORBIDDEN_TEXT = {
    "plans": [
        (
            r"\bsla_?clocks?__|\btickets?__|\bescalation_?firings?__",
            "an ORM lookup into sla or tickets",
        ),
        (r"[\"'](?:sla|tickets)\.[A-Za-z]+[\"']", "an app-label model reference to sla or tickets"),
        (
            r"[\"']/admin/(?:sla|tickets)/|[\"']admin:(?:sla|tickets)_|[\"'](?:reports|tickets):",
            "a URL of sla or tickets",
        ),
    ],
    "sla": [
        (
            r"(?:\b|__)(?:ticket|queue|assignee)__|\bcustomer_escalations\b",
            "an ORM lookup into tickets",
        ),
        (r"[\"']tickets\.(?!Ticket[\"'])[A-Za-z]+[\"']", "an app-label model reference to tickets"),
        (r"[\"']/admin/tickets/|[\"']admin:tickets_|[\"'](?:reports|tickets):", "a URL of tickets"),
    ],
}


def modules() -> list[tuple[str, Path]]:
    found = []
    for app in RANK:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            dotted = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found.append((dotted.removesuffix(".__init__"), path))
    return found


def imported(tree: ast.AST) -> list[tuple[str, ast.stmt]]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(alias.name, node) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [(node.module, node)] + [
                (f"{node.module}.{alias.name}", node) for alias in node.names
            ]
    return names


def presentation_of(dotted: str) -> str | None:
    return next((p for p in PRESENTATION if dotted == p or dotted.startswith(p + ".")), None)


def layer_errors(dotted: str, source: str) -> list[str]:
    errors = []
    app = dotted.split(".")[0]
    own_presentation = presentation_of(dotted)
    tree = ast.parse(source)
    for name, node in imported(tree):
        target_app = name.split(".")[0]
        if target_app in RANK and RANK[target_app] > RANK[app]:
            errors.append(f"{dotted}:{node.lineno} imports {name} from a layer above")
        target_presentation = presentation_of(name)
        if target_presentation and target_presentation != own_presentation:
            errors.append(f"{dotted}:{node.lineno} imports presentation {name}")
    for pattern, what in FORBIDDEN_TEXT.get(app, []):
        for match in re.finditer(pattern, source):
            line = source.count("\n", 0, match.start()) + 1
            errors.append(f"{dotted}:{line} has {what}: {match.group(0)}")
    return errors


def local_import_errors(dotted: str, source: str) -> list[str]:
    lines = source.splitlines()
    errors = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for inner in ast.walk(node):
            if (
                isinstance(inner, ast.Import | ast.ImportFrom)
                and "#" not in lines[inner.lineno - 1]
            ):
                errors.append(f"{dotted}:{inner.lineno} imports inside a function without a reason")
    return errors


@pytest.mark.parametrize(("dotted", "path"), modules(), ids=[m[0] for m in modules()])
def test_the_module_respects_the_layer_order(dotted: str, path: Path) -> None:
    assert layer_errors(dotted, path.read_text()) == []


@pytest.mark.parametrize(("dotted", "path"), modules(), ids=[m[0] for m in modules()])
def test_imports_inside_functions_say_why(dotted: str, path: Path) -> None:
    assert local_import_errors(dotted, path.read_text()) == []


@pytest.mark.parametrize(
    ("dotted", "source", "expected"),
    [
        ("sla.views", "from tickets.models import Ticket\n", "imports tickets.models"),
        ("sla.reports", 'q = {"ticket__queue": 1}\n', "ORM lookup into tickets"),
        ("sla.views", 'url = "/admin/tickets/ticket/1/change/"\n', "a URL of tickets"),
        ("plans.admin", 'm = "tickets.customerescalation"\n', "app-label model reference"),
        ("tickets.services", "from tickets.portal import views\n", "imports presentation"),
        ("tickets.portal.views", "from tickets.desk.admin import x\n", "imports presentation"),
    ],
)
def test_the_checker_catches_each_kind_of_breach(dotted: str, source: str, expected: str) -> None:
    assert any(expected in error for error in layer_errors(dotted, source))


def test_the_checker_lets_sla_name_its_ticket_by_a_lazy_reference() -> None:
    source = 'ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE)\n'
    assert layer_errors("sla.models", source) == []
