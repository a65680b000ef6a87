"""Article search on two databases.

PostgreSQL: a stored `tsvector` (title weight A over body weight B, English configuration),
GIN-indexed and stored inline (see the migration), matched with `websearch_to_tsquery`, ranked
by `ts_rank` over a bounded set of candidates and highlighted with `ts_headline`. Two queries per
search (the ranking, the snippets) whatever the number of articles.

SQLite (the embedded default): no full-text index. A plain `LIKE` over title and body for each
word (every word for a search, any word for suggestions), ranked by the words found in the
title (twice) and in the body. It has no stemming
("connecting" does not find "connection"), no stop words beyond a short list, and reads every
article, so it suits a laptop's few hundred articles, not a large help centre.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    SearchVector,
)
from django.db import connection
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.expressions import CombinedExpression
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from tickets.kb.models import Article

CONFIG = "english"
# Highlight markers: rare characters, replaced by <mark> after the snippet is escaped.
START, STOP = "\u27e6", "\u27e7"
MAX_WORDS = 8
# A search ranks at most this many matches (plus title matches): a word found in half of
# 100,000 articles costs the same as a rare one. Past it, the ranking is of the first matches
# the index returns, and the title matches, which rank highest anyway.
CANDIDATES = 500
TITLE_CANDIDATES = 100
SNIPPET_CHARS = 200
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "do",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "the",
        "this",
        "to",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "why",
        "will",
        "with",
        "you",
        "your",
    ]
)
WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class SearchHit:
    article: Article
    snippet: SafeString

    @property
    def title(self) -> str:
        return self.article.title

    @property
    def url(self) -> str:
        return self.article.get_absolute_url()


def search_vector() -> CombinedExpression:
    """What the stored vector holds: the title (A) over the plain-text body (B)."""
    return SearchVector("title", weight="A", config=CONFIG) + SearchVector(
        "body_text", weight="B", config=CONFIG
    )


def words(text: str) -> list[str]:
    """The distinct words of `text` worth searching for, in order, at most MAX_WORDS."""
    found: dict[str, None] = {}
    for word in WORD.findall(text.lower()):
        if len(word) > 1 and word not in STOP_WORDS:
            found.setdefault(word, None)
    return list(found)[:MAX_WORDS]


def search(
    articles: QuerySet[Article], text: str, *, limit: int, match_any: bool
) -> list[SearchHit]:
    """The best `limit` articles of `articles` for `text`; one query."""
    text = " ".join(text.split())[:200]
    terms = words(text)
    if not terms:
        return []
    if connection.vendor == "postgresql":
        return _postgres(articles, text, terms, limit=limit, match_any=match_any)
    return _plain(articles, terms, limit=limit, match_any=match_any)


def highlighted(snippet: str) -> SafeString:
    """Escape a snippet carrying START/STOP markers, then turn the markers into <mark>."""
    html = str(escape(snippet)).replace(START, "<mark>").replace(STOP, "</mark>")
    return mark_safe(html)


def _postgres(
    articles: QuerySet[Article], text: str, terms: list[str], *, limit: int, match_any: bool
) -> list[SearchHit]:
    if match_any:
        query = SearchQuery(" | ".join(terms), search_type="raw", config=CONFIG)
    else:
        query = SearchQuery(text, search_type="websearch", config=CONFIG)
    # Candidates, bounded whatever the number of matches: articles whose title matches (their
    # own small GIN index), and any match as the index finds them. Only these are ranked.
    rank = SearchRank(F("search_vector"), query)
    in_title = (
        articles.annotate(title_vector=SearchVector("title", config=CONFIG), rank=rank)
        .filter(title_vector=query)
        .order_by()
        .values_list("pk", "rank", "published_at")[:TITLE_CANDIDATES]
    )
    anywhere = (
        articles.filter(search_vector=query)
        .annotate(rank=rank)
        .order_by()
        .values_list("pk", "rank", "published_at")[:CANDIDATES]
    )
    best = list(in_title.union(anywhere).order_by("-rank", "-published_at", "pk")[:limit])
    if not best:
        return []
    # The headline (costly) only for the page's rows.
    hits = Article.objects.filter(pk__in=[pk for pk, _rank, _at in best]).annotate(
        snippet=SearchHeadline(
            "body_text",
            query,
            config=CONFIG,
            start_sel=START,
            stop_sel=STOP,
            max_words=35,
            min_words=15,
            max_fragments=2,
            fragment_delimiter=" … ",
        ),
    )
    found = {article.pk: article for article in hits.only("title", "slug", "summary")}
    return [SearchHit(found[pk], highlighted(found[pk].snippet)) for pk, _rank, _at in best]


def _plain(
    articles: QuerySet[Article], terms: list[str], *, limit: int, match_any: bool
) -> list[SearchHit]:
    """SQLite: every word (or any word) in title or body; words in the title count twice."""
    match = Q()
    score: Value | CombinedExpression = Value(0)
    for term in terms:
        found = Q(title__icontains=term) | Q(body_text__icontains=term)
        match = (match | found) if match_any else (match & found)
        score = (
            score
            + Case(When(title__icontains=term, then=2), default=0, output_field=IntegerField())
            + Case(When(body_text__icontains=term, then=1), default=0, output_field=IntegerField())
        )
    rows = (
        articles.filter(match)
        .annotate(score=score)
        .order_by("-score", "-published_at", "pk")
        .only("title", "slug", "summary", "published_at", "body_text")[:limit]
    )
    return [SearchHit(article, plain_snippet(article.body_text, terms)) for article in rows]


def plain_snippet(text: str, terms: list[str]) -> SafeString:
    """About SNIPPET_CHARS of `text` around the first word found, the words highlighted."""
    lower = text.lower()
    positions = [lower.find(term) for term in terms if term in lower]
    start = max(0, min(positions) - SNIPPET_CHARS // 3) if positions else 0
    piece = text[start : start + SNIPPET_CHARS]
    marked = re.sub(
        "|".join(re.escape(term) for term in sorted(terms, key=len, reverse=True)),
        lambda m: f"{START}{m.group(0)}{STOP}",
        piece,
        flags=re.IGNORECASE,
    )
    prefix = "… " if start else ""
    suffix = " …" if start + SNIPPET_CHARS < len(text) else ""
    return highlighted(f"{prefix}{marked}{suffix}")
