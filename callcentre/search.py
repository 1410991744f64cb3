"""FAQ search that works for Chinese: text is cut into words and character pairs.

Chinese has no spaces between words, so "水压" must find "水压低": every run of Chinese
characters gives its single characters and each pair of neighbours, every other run its
lower-cased words. An entry scores the query's pairs and words found in it, weighted by
where they stand (question and keywords above answer), and single characters a little.
"""

import heapq
import re
import unicodedata
from collections import defaultdict

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


# Bumped whenever an FAQ entry is saved or deleted, so every process rebuilds its index.
FAQ_VERSION_KEY = "faq:version"


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


class FaqIndex:
    """An inverted index of the published FAQ: each term, the entries holding it, and how
    much it weighs in each; a query reads only the entries of its own terms."""

    def __init__(self, rows) -> None:
        self.terms: dict[str, dict[int, float]] = defaultdict(dict)
        self.characters: dict[str, dict[int, float]] = defaultdict(dict)
        self.question_length: dict[int, int] = {}
        for pk, question, keywords, category, answer in rows:
            self.question_length[pk] = len(question)
            for text, weight in (
                (question, QUESTION),
                (keywords, KEYWORDS),
                (category, CATEGORY),
                (answer, ANSWER),
            ):
                words, characters = terms(text)
                # A single character is a term too, for a query of one character (水).
                for word in words | characters:
                    self.terms[word][pk] = self.terms[word].get(pk, 0.0) + weight * TERM
                for character in characters:
                    posting = self.characters[character]
                    posting[pk] = posting.get(pk, 0.0) + weight * CHARACTER

    def rank(self, *, words: set[str], characters: set[str], limit: int) -> list[tuple[int, float]]:
        """Return (entry, score) of the best entries holding any of ``words``, best first."""
        scores: dict[int, float] = defaultdict(float)
        for word in words:
            for pk, weight in self.terms.get(word, {}).items():
                scores[pk] += weight
        for character in characters:
            for pk, weight in self.characters.get(character, {}).items():
                if pk in scores:
                    scores[pk] += weight
        best = heapq.nsmallest(
            limit,
            scores.items(),
            # Rounded: sums made in another order differ in the last bit, and ties must tie.
            key=lambda item: (-round(item[1], 6), self.question_length[item[0]], item[0]),
        )
        return best
