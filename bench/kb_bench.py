"""Time and count the queries of help-centre searches over many articles.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench_kb \
        .venv/bin/python bench/kb_bench.py [--articles 100000] [--searches 300]

Without BENCH_DATABASE_URL it uses a scratch SQLite file (the plain fallback: expect it to be
slow at this size; it is meant for a laptop's few hundred articles). The database is migrated
and its articles are replaced: never point it at data you want to keep.

Articles are written from a vocabulary of 20,000 words drawn with Zipf-like frequencies: the
commonest 100 are English stop words (as in real text; the search drops them), then synthetic
words, a few of them in a tenth of all articles, most in few. Titles of 4-9 words, bodies of
60-220 words;
60% for every customer, 20% public, 20% for one of three plans; 5% drafts. The searches are
what a customer on one plan runs through `tickets.kb.selectors`: help-centre searches of one to
three words (every word must match) and new-ticket suggestions (any word may match), each word
drawn like the text's own words, so common words come up as often as they would.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", f"sqlite:///{tempfile.gettempdir()}/helpdesk_kb_bench.sqlite3"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from plans.models import Contract, NamedContact, Organization, Plan, Policy  # noqa: E402
from tickets.kb import selectors  # noqa: E402
from tickets.kb.models import Article, ArticleCategory, Visibility  # noqa: E402
from tickets.kb.search import search_vector  # noqa: E402

BATCH = 5000
VOCABULARY = 20_000
SYLLABLES = [
    "ka",
    "ri",
    "to",
    "ne",
    "mo",
    "sa",
    "lu",
    "pe",
    "di",
    "fa",
    "go",
    "ha",
    "ji",
    "ku",
    "la",
    "me",
    "no",
    "pa",
    "qu",
    "re",
    "si",
    "ta",
    "ve",
    "wo",
    "xa",
    "yo",
    "ze",
    "bri",
    "cla",
    "dro",
    "fle",
    "gri",
    "plo",
    "sta",
    "tre",
    "vro",
    "zan",
    "kel",
    "mor",
    "pin",
    "sul",
    "tor",
]


STOP = [
    "the",
    "of",
    "and",
    "to",
    "a",
    "in",
    "is",
    "it",
    "you",
    "that",
    "he",
    "was",
    "for",
    "on",
    "are",
    "with",
    "as",
    "i",
    "his",
    "they",
    "be",
    "at",
    "one",
    "have",
    "this",
    "from",
    "or",
    "had",
    "by",
    "but",
    "some",
    "what",
    "there",
    "we",
    "can",
    "out",
    "other",
    "were",
    "all",
    "your",
    "when",
    "up",
    "use",
    "how",
    "said",
    "an",
    "each",
    "she",
    "which",
    "do",
    "their",
    "if",
    "will",
    "way",
    "about",
    "many",
    "then",
    "them",
    "would",
    "so",
    "these",
    "her",
    "him",
    "has",
    "more",
    "could",
    "go",
    "come",
    "did",
    "no",
    "most",
    "my",
    "over",
    "than",
    "who",
    "may",
    "down",
    "been",
    "its",
    "now",
    "find",
    "any",
    "new",
    "work",
    "part",
    "take",
    "get",
    "made",
    "after",
    "also",
    "just",
    "where",
    "most",
    "know",
    "through",
    "back",
    "much",
    "before",
    "also",
    "our",
    "because",
    "very",
    "those",
    "both",
    "under",
    "while",
    "should",
    "never",
    "same",
    "another",
    "however",
    "again",
    "does",
    "why",
]


def vocabulary(rng: random.Random) -> list[str]:
    words: dict[str, None] = dict.fromkeys(STOP)
    while len(words) < VOCABULARY:
        words.setdefault("".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))), None)
    return list(words)


def build(count: int, rng: random.Random, words: list[str], weights: list[float]) -> list[Plan]:
    Article.objects.all().delete()
    policy, _ = Policy.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    plans = [
        Plan.objects.get_or_create(slug=f"bench-{n}", defaults={"policy": policy, "name": f"P{n}"})[
            0
        ]
        for n in range(3)
    ]
    categories = [
        ArticleCategory.objects.get_or_create(slug=f"c{n}", defaults={"name": f"C{n}"})[0]
        for n in range(12)
    ]
    now = timezone.now()
    through = Article.plans.through
    for start in range(0, count, BATCH):
        rows = []
        for n in range(start, min(start + BATCH, count)):
            title = " ".join(rng.choices(words, weights, k=rng.randint(4, 9))).capitalize()
            body = " ".join(rng.choices(words, weights, k=rng.randint(60, 220)))
            roll = rng.random()
            visibility = (
                Visibility.CUSTOMERS
                if roll < 0.6
                else Visibility.PUBLIC
                if roll < 0.8
                else Visibility.PLANS
            )
            published = rng.random() >= 0.05
            rows.append(
                Article(
                    title=title,
                    slug=f"a-{n}",
                    body=body,
                    body_html=f"<p>{body}</p>",
                    body_text=body,
                    category=categories[n % len(categories)],
                    visibility=visibility,
                    status="published" if published else "draft",
                    published_at=now - dt.timedelta(minutes=n) if published else None,
                    created_at=now,
                    updated_at=now,
                )
            )
        with transaction.atomic():
            created = Article.objects.bulk_create(rows)
            through.objects.bulk_create(
                through(article_id=a.pk, plan_id=plans[a.pk % 3].pk)
                for a in created
                if a.visibility == Visibility.PLANS
            )
        print(f"  {min(start + BATCH, count):,} articles", end="\r", flush=True)
    print()
    if connection.vendor == "postgresql":
        started = time.perf_counter()
        Article.objects.update(search_vector=search_vector())
        print(f"search vectors computed in {time.perf_counter() - started:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE tickets_article")
            cursor.execute("VACUUM ANALYZE tickets_article_plans")
    return plans


def customer(plan: Plan) -> User:
    user, _ = User.objects.get_or_create(username="bench-customer")
    organization, _ = Organization.objects.get_or_create(slug="bench-org", defaults={"name": "B"})
    Contract.objects.get_or_create(
        organization=organization,
        defaults={"plan": plan, "starts_on": dt.date(2020, 1, 1), "onboarding_completed": True},
    )
    NamedContact.objects.get_or_create(organization=organization, user=user)
    return User.objects.get(pk=user.pk)


def timed(call: object, texts: list[str], user: User) -> tuple[list[float], list[int], int]:
    durations, queries, found = [], [], 0
    for text in texts:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            hits = call(user=user, text=text)  # type: ignore[operator]
            durations.append((time.perf_counter() - started) * 1000)
        queries.append(len(captured))
        found += bool(hits)
    return durations, queries, found


def report(name: str, durations: list[float], queries: list[int], found: int) -> None:
    ordered = sorted(durations)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    print(
        f"{name:<34} n={len(ordered):>4}  p50 {statistics.median(ordered):6.1f} ms  "
        f"p95 {p95:6.1f} ms  max {ordered[-1]:6.1f} ms  "
        f"queries/search {min(queries)}-{max(queries)}  with results {found}/{len(ordered)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--reuse", action="store_true", help="keep the articles already built")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    rng = random.Random(18)
    words = vocabulary(rng)
    weights = [1 / (rank + 1) for rank in range(len(words))]
    print(f"database: {connection.vendor}, backend: {selectors.backend()}")
    if args.reuse and Article.objects.count() == args.articles:
        plans = list(Plan.objects.filter(slug__startswith="bench-").order_by("slug"))
    else:
        started = time.perf_counter()
        plans = build(args.articles, rng, words, weights)
        print(f"built {args.articles:,} articles in {time.perf_counter() - started:.1f} s")
    user = customer(plans[0])
    selectors.viewer_plan_ids(user=user)  # the viewer's plans: read once per request
    searches = [
        " ".join(rng.choices(words, weights, k=rng.choice((1, 1, 2, 2, 3))))
        for _ in range(args.searches)
    ]
    subjects = [
        " ".join(rng.choices(words, weights, k=rng.randint(3, 7))) for _ in range(args.searches)
    ]
    for text in searches[:20]:  # warm the caches
        selectors.search_articles(user=user, text=text)

    def suggest(*, user: User, text: str) -> list:
        return selectors.suggestions(user=user, subject=text)

    print(f"load average before timing: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    report("help search (all words)", *timed(selectors.search_articles, searches, user))
    report("new-ticket suggestions (any word)", *timed(suggest, subjects, user))
    first = len(dict.fromkeys(STOP))
    common = [words[n] for n in range(first, first + 5)]
    report("worst case: 5 commonest words", *timed(selectors.search_articles, common * 4, user))


if __name__ == "__main__":
    main()
