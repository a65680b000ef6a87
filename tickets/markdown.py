"""Markdown from customers and agents, rendered to HTML that is safe to show (nh3).

Python-Markdown recurses once per level of nested lists or quotes (1,201 characters of
`- - - ... x` exhaust Python's stack), its link pattern is quadratic in the number of `[`
(12,000 of them took 20 s) and its block parser in the lines of some shapes. Input past these
fences is shown as escaped plain text instead, so rendering time is bounded by the body's
length limit, whatever the body holds.
"""

import re
import threading

import markdown
import nh3
from django.utils.html import escape

# A legitimate message nests a handful of levels and holds a few dozen links.
MAX_RENDER_CHARS = 50_000
MAX_NESTING = 24
MAX_BRACKETS = 200
# Its block parser is quadratic in the number of lines of some shapes (`-`, `#`, `=` alone).
MAX_LINES = 1500
# One container marker at the start of a line: a quote, a bullet or an ordered-list number.
_CONTAINER = re.compile(r"[ \t]*(?:>|(?:[-*+]|\d{1,9}[.)])(?=[ \t]|$))")

_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h1",
    "h2",
    "h3",
    "h4",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "del",
}
_ATTRIBUTES = {"a": {"href", "title"}}


def nesting_depth(line: str) -> int:
    """How deep a line nests: its leading container markers plus its indentation (2 columns
    a level, the narrowest a nested list needs)."""
    stripped = line.lstrip(" \t")
    indent = len(line.expandtabs(4)) - len(stripped.expandtabs(4))
    depth, position = 0, 0
    while match := _CONTAINER.match(line, position):
        if match.end() == position:
            break
        depth += 1
        position = match.end()
    return depth + indent // 2


def is_pathological(text: str) -> bool:
    """True for input that would make the renderer recurse too deep or run for long."""
    if len(text) > MAX_RENDER_CHARS or text.count("[") > MAX_BRACKETS:
        return True
    lines = text.splitlines()
    return len(lines) > MAX_LINES or any(nesting_depth(line) > MAX_NESTING for line in lines)


def plain_text_html(text: str) -> str:
    """The text, escaped, as paragraphs with line breaks: what a pathological body shows."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if p.strip()]
    return "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


_converters = threading.local()


def _converter() -> markdown.Markdown:
    """This thread's converter: building one (its extensions and parser) costs more than most
    conversions, and `reset()` clears what a conversion leaves behind."""
    converter: markdown.Markdown | None = getattr(_converters, "converter", None)
    if converter is None:
        converter = markdown.Markdown(extensions=["fenced_code", "tables", "sane_lists"])
        _converters.converter = converter
    return converter.reset()


def render_markdown(text: str) -> str:
    """Markdown (with fenced code and tables) to sanitized HTML; raw HTML in the input is
    escaped or dropped, links get rel="noopener noreferrer". Pathological input (see
    `is_pathological`) is shown as escaped plain text."""
    if is_pathological(text):
        return plain_text_html(text)
    try:
        html = _converter().convert(text)
    except RecursionError:  # a shape the fences above do not foresee: still never a 500
        _converters.converter = None  # left half-way through: build a new one next time
        return plain_text_html(text)
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
