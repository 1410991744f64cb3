"""FAQ search that works for Chinese: text is cut into words and character pairs.

Chinese has no spaces between words, so "水压" must find "水压低": every run of Chinese
characters gives its single characters and each pair of neighbours, every other run its
lower-cased words. An entry scores the query's pairs and words found in it, weighted by
where they stand (question and keywords above answer), and single characters a little.
"""

import re
import unicodedata

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+")
_IS_CJK = re.compile(rf"[{_CJK}]")

# Weight of a match by where it is found.
QUESTION, KEYWORDS, CATEGORY, ANSWER = 4.0, 4.0, 1.5, 1.0
# Weight of a match by what matched: a pair or a word means far more than one character.
TERM, CHARACTER = 1.0, 0.15
# Pairs every question has ("什么时候来水": the caller means 来水); dropped from a query
# unless nothing else is left.
QUESTION_PAIRS = frozenset(
    [
        "什么",
        "么时",
        "时候",
        "候来",
        "怎么",
        "么办",
        "为什",
        "多久",
        "如何",
        "请问",
        "我家",
        "可以",
        "是否",
        "哪里",
        "怎样",
        "一下",
        "是不",
        "不是",
        "问题",
        "需要",
        "要求",
    ]
)


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def terms(text: str) -> tuple[set[str], set[str]]:
    """Return the query terms (words and character pairs) and single characters of ``text``."""
    words, characters = set(), set()
    for run in _RUNS.findall(normalize(text)):
        if _IS_CJK.match(run):
            characters.update(run)
            words.update(run[i : i + 2] for i in range(len(run) - 1))
            if len(run) == 1:
                words.add(run)
        else:
            words.add(run)
    return words, characters


def query_terms(text: str) -> tuple[set[str], set[str]]:
    """Return the terms and characters to look for when someone asks ``text``."""
    words, characters = terms(text)
    return (words - QUESTION_PAIRS) or words, characters


def search_text(*fields: str) -> str:
    """Return the normalized text the database filters FAQ entries by."""
    return "\n".join(normalize(field) for field in fields)


def score(
    *,
    words: set[str],
    characters: set[str],
    question: str,
    keywords: str,
    category: str,
    answer: str,
) -> float:
    """Return how well an entry's fields match the query's words and characters."""
    total = 0.0
    for text, weight in (
        (normalize(question), QUESTION),
        (normalize(keywords), KEYWORDS),
        (normalize(category), CATEGORY),
        (normalize(answer), ANSWER),
    ):
        total += weight * TERM * sum(1 for word in words if word in text)
        total += weight * CHARACTER * sum(1 for character in characters if character in text)
    return total
