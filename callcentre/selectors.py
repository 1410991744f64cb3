"""Reads of call intake that pages and the API share."""

from django.db.models import Q, QuerySet

from callcentre.models import Call, FaqEntry
from callcentre.search import query_terms, score


def faq_search(*, query: str, limit: int = 10) -> list[FaqEntry]:
    """Return the published FAQ entries that best match ``query``, best first.

    The database keeps the entries holding any word or character pair of the query; they
    are then ranked here, each carrying its ``score``.
    """
    words, characters = query_terms(query)
    if not words:
        return []
    match = Q()
    for word in words:
        match |= Q(search_text__contains=word)
    found = FaqEntry.objects.filter(match, is_published=True).only(
        "id", "question", "answer", "category", "keywords"
    )
    for entry in found:
        entry.score = score(
            words=words,
            characters=characters,
            question=entry.question,
            keywords=entry.keywords,
            category=entry.category,
            answer=entry.answer,
        )
    ranked = sorted(found, key=lambda entry: (-entry.score, len(entry.question), entry.pk))
    return ranked[:limit]


def call_current_for_agent(*, agent) -> Call | None:
    """Return the call the agent has answered and not yet finished (the screen pop)."""
    return (
        Call.objects.filter(agent=agent, answered_at__isnull=False, ended_at__isnull=True)
        .select_related("caller")
        .order_by("-answered_at")
        .first()
    )


def calls_for_caller(*, caller, limit: int = 10) -> QuerySet[Call]:
    return Call.objects.filter(caller=caller).select_related("agent", "ticket")[:limit]
