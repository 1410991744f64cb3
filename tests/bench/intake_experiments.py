"""Check and try changes to the intake reads: ``python -m tests.bench.intake_experiments``.

Runs on the intake database a ``--suite intake`` run left and changes nothing in it:

1. FAQ search, for every query of the benchmark (and a few one-character ones): the
   product's ``faq_search()`` against a *reference*, the ranking as the issue describes it
   and as the product did it before its inverted index (every published entry holding a
   query term as a substring of ``search_text``, scored field by field, here in Python).
   Also *fixed*: the product's index with every character of an entry indexed as a term too.
   How many entries each finds, the ten shown (the same entries in the same order: *yes*;
   the same scores but equal ones in another order: *ties*) and the median time of each
   (no HTTP; *fixed* fetches no entries, the others fetch the ten shown).
2. The caller panel's tickets query for the heavy callers: EXPLAIN (ANALYZE, BUFFERS) with
   the product's indexes, then with an index on ``(caller_phone, received_at DESC)`` created
   inside a transaction that is rolled back.
"""

import argparse
import os
import statistics
import sys
import time

from tests.bench.intake import DEFAULT_DATABASE_URL

# One-character queries: what an agent's first keystroke sends.
SHORT_QUERIES = ["水", "压", "费", "表"]


def _median_ms(function, query: str, repeat: int) -> float:
    function(query)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function(query)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def reference_search(query: str, limit: int = 10) -> list[tuple[int, float]]:
    """(entry, score) of the best published entries for ``query``, as the product ranked them
    before its inverted index: every entry with a query term in ``search_text``, each field
    weighted by where the term or character stands."""
    from django.db.models import Q

    from callcentre.models import FaqEntry
    from callcentre.search import (
        ANSWER,
        CATEGORY,
        CHARACTER,
        KEYWORDS,
        QUESTION,
        TERM,
        query_terms,
    )

    words, characters = query_terms(query)
    if not words:
        return []
    match = Q()
    for word in words:
        match |= Q(search_text__contains=word)
    found = FaqEntry.objects.filter(match, is_published=True).values_list(
        "id", "question", "search_text"
    )
    ranked = []
    for pk, question, text in found:
        total = 0.0
        # search_text is question, keywords, category, answer, normalized, joined by "\n".
        parts = text.split("\n", 3)
        for part, weight in zip(parts, (QUESTION, KEYWORDS, CATEGORY, ANSWER), strict=False):
            total += weight * TERM * sum(1 for word in words if word in part)
            total += weight * CHARACTER * sum(1 for c in characters if c in part)
        ranked.append((-total, len(question), pk))
    ranked.sort()
    return [(pk, -score) for score, _length, pk in ranked[:limit]]


def _fixed_index():
    """The product's ``FaqIndex`` with every character of an entry indexed as a term too
    (a one-character query word is then found like a pair), or None if its layout changed."""
    from callcentre import search
    from callcentre.models import FaqEntry

    rows = FaqEntry.objects.filter(is_published=True).values_list(
        "pk", "question", "keywords", "category", "answer"
    )
    try:
        index = search.FaqIndex(rows.iterator())
        for character, posting in index.characters.items():
            # The character posting sums CHARACTER x the weight of each field holding it.
            index.terms[character] = {
                pk: weight / search.CHARACTER * search.TERM for pk, weight in posting.items()
            }
    except AttributeError:
        return None
    return index


def _same(reference: list[tuple[int, float]], other: list[tuple[int, float]]) -> str:
    if [pk for pk, _ in reference] == [pk for pk, _ in other]:
        return "yes"
    if [round(s, 6) for _, s in reference] == [round(s, 6) for _, s in other]:
        return "ties"  # the same scores; equal ones in another order
    return "NO"


def faq_check(repeat: int) -> None:
    from callcentre.search import query_terms
    from callcentre.selectors import faq_search
    from tests.bench.intake_faq import QUERIES

    def now(query: str, limit: int = 10) -> list[tuple[int, float]]:
        return [(entry.pk, entry.score) for entry in faq_search(query=query, limit=limit)]

    fixed_index = _fixed_index()

    def fixed(query: str, limit: int = 10) -> list[tuple[int, float]]:
        words, characters = query_terms(query)
        if not words or fixed_index is None:
            return []
        return fixed_index.rank(words=words, characters=characters, limit=limit)

    print(
        f"\n== FAQ search: the product now, and with one-character terms indexed (fixed), "
        f"against the reference; median ms over {repeat} calls"
    )
    print(
        f"{'kind':<7} {'query':<15} {'found: ref':>10} {'now':>6} {'fixed':>6} "
        f"{'ms: ref':>8} {'now':>6} {'fixed':>6}  same ten: now  fixed"
    )
    queries = [
        *((kind, query) for kind, queries in QUERIES.items() for query in queries),
        *(("short", query) for query in SHORT_QUERIES),
    ]
    for kind, query in queries:
        reference = reference_search(query)
        found = [len(f(query, 10**6)) for f in (reference_search, now, fixed)]
        times = [_median_ms(f, query, repeat) for f in (reference_search, now, fixed)]
        print(
            f"{kind:<7} {query:<15} {found[0]:>10,} {found[1]:>6,} {found[2]:>6,} "
            f"{times[0]:8.1f} {times[1]:6.2f} {times[2]:6.2f}  {_same(reference, now(query)):>13}  "
            f"{_same(reference, fixed(query))}"
        )
    if fixed_index is None:
        print("(the product's FaqIndex has changed its layout: no 'fixed' variant)")


def tickets_index(heavy_phones: list[str]) -> None:
    from django.db import connection, transaction

    from callcentre.selectors import _TICKET_RELATED
    from tickets.models import Ticket

    def plans(label: str) -> None:
        for phone in heavy_phones:
            query = (
                Ticket.objects.filter(caller_phone=phone)
                .select_related(*_TICKET_RELATED)
                .order_by("-received_at")[:10]
            )
            plan = query.explain(analyze=True, buffers=True)
            lines = [line.strip() for line in plan.splitlines()]
            scan = next((line for line in lines if "Scan" in line and "tickets_ticket" in line), "")
            removed = sum(
                int(line.rsplit(" ", 1)[1])
                for line in lines
                if line.startswith("Rows Removed by Filter")
            )
            buffers = next((line for line in lines if line.startswith("Buffers")), "")
            execution = next(line for line in lines if line.startswith("Execution Time"))
            count = Ticket.objects.filter(caller_phone=phone).count()
            print(
                f"{label:<9} {phone} ({count:,} tickets): {execution}, {removed:,} rows "
                f"filtered out, {buffers}\n          {scan.split('  (')[0]}"
            )

    print("\n== The caller panel's tickets query, heavy callers")
    plans("now")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE INDEX bench_try_ticket_caller_recent "
                "ON tickets_ticket (caller_phone, received_at DESC)"
            )
            cursor.execute("ANALYZE tickets_ticket")
        plans("with index")
        transaction.set_rollback(True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.intake_experiments", description=__doc__
    )
    parser.add_argument("--repeat", type=int, default=15, help="calls per query and variant")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_INTAKE_DATABASE_URL", DEFAULT_DATABASE_URL),
    )
    args = parser.parse_args(argv)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.bench.settings"
    os.environ["DATABASE_URL"] = args.database_url

    import django

    django.setup()
    from callcentre.models import Caller
    from tests.bench.intake_dataset import HEAVY_CALLERS

    heavy = list(Caller.objects.order_by("id")[:HEAVY_CALLERS])  # the loader's first ids
    faq_check(args.repeat)
    tickets_index([heavy[0].phone.as_e164, heavy[-1].phone.as_e164] if heavy else [])
    return 0


if __name__ == "__main__":
    sys.exit(main())
