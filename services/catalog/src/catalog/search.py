"""Typo-tolerant search over service titles and descriptions in ru, tt and en; pure, no I/O.

Citizens type on a kiosk in a hurry ("спрвка о составе семи"), so every query word is matched
against every word of the service's texts by edit similarity, and a prefix counts as a match
("паспор" finds "паспорт"). Titles weigh more than descriptions. The catalog is small (hundreds
of services), so scoring every service per query is fast enough and needs no index store.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from contracts.catalog import ServicePublished
from rapidfuzz import fuzz

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Words that say nothing about which service is meant; they only add noise to the score.
_STOPWORDS = frozenset(
    "и в во на о об от по за для из к с со у или а the of for a an to in on and or my i how get"
    " вә һәм өчен белән буенча турында".split()
)
MATCH_THRESHOLD = 78.0
TITLE_WEIGHT = 1.0
DESCRIPTION_WEIGHT = 0.85


def normalize(text: str) -> str:
    return text.lower().replace("ё", "е")


def words(text: str) -> list[str]:
    return [word for word in _WORD.findall(normalize(text)) if word not in _STOPWORDS]


def word_similarity(query_word: str, text_word: str) -> float:
    """0..100: how well one typed word matches one word of a text."""
    if query_word == text_word:
        return 100.0
    if len(query_word) >= 3 and text_word.startswith(query_word):
        return 95.0
    if len(query_word) < 3:
        return 0.0
    return float(fuzz.ratio(query_word, text_word))


@dataclass(frozen=True)
class Hit:
    service: ServicePublished
    score: float


@dataclass(frozen=True)
class _Document:
    service: ServicePublished
    title_words: frozenset[str]
    description_words: frozenset[str]


def _texts(service: ServicePublished) -> tuple[list[str], list[str]]:
    titles = [service.title.ru, service.title.tt or "", service.title.en or "", service.code]
    description = service.description
    descriptions = [description.ru, description.tt or "", description.en or ""] if description else []
    return titles, descriptions


def _document(service: ServicePublished) -> _Document:
    titles, descriptions = _texts(service)
    return _Document(
        service,
        frozenset(w for text in titles for w in words(text)),
        frozenset(w for text in descriptions for w in words(text)),
    )


def _best(query_word: str, candidates: Iterable[str]) -> float:
    return max((word_similarity(query_word, candidate) for candidate in candidates), default=0.0)


def _score(query_words: Sequence[str], document: _Document) -> float:
    """Mean over query words of the best match; a word that matches nothing pulls the score down."""
    total = 0.0
    for query_word in query_words:
        in_title = _best(query_word, document.title_words)
        in_description = _best(query_word, document.description_words)
        total += max(
            in_title * TITLE_WEIGHT if in_title >= MATCH_THRESHOLD else 0.0,
            in_description * DESCRIPTION_WEIGHT if in_description >= MATCH_THRESHOLD else 0.0,
        )
    return total / len(query_words)


def search(query: str, services: Sequence[ServicePublished], *, limit: int = 10) -> list[Hit]:
    """Services best matching `query`, best first; nothing when no word matches well enough."""
    query_words = words(query) or _WORD.findall(normalize(query))
    if not query_words:
        return []
    hits = [Hit(doc.service, round(_score(query_words, doc), 1)) for doc in map(_document, services)]
    relevant = [hit for hit in hits if hit.score >= MATCH_THRESHOLD * 0.5]
    relevant.sort(key=lambda hit: (-hit.score, hit.service.service_id))
    return relevant[:limit]
