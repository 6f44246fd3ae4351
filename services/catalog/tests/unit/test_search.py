"""Search over the demo catalog: typos, three languages, ranking."""

from __future__ import annotations

import pytest
from catalog.demo import demo_services
from catalog.search import search

SERVICES = demo_services()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("спрвка о составе семи", "household-certificate"),
        ("household", "household-certificate"),
        ("kindergarden", "kindergarten-queue"),
        ("балалар бакчасы", "kindergarten-queue"),
        ("материнский капитл", "maternity-capital"),
        ("загранпаспорт", "foreign-passport"),
        ("прописка", "residence-registration"),
        ("СНИЛС", "snils-issue"),
    ],
)
def test_the_service_meant_comes_first(query: str, expected: str) -> None:
    assert search(query, SERVICES)[0].service.service_id == expected


def test_gibberish_finds_nothing() -> None:
    assert search("qwerty xyzzy", SERVICES) == []


def test_a_query_of_only_short_words_finds_nothing_rather_than_everything() -> None:
    assert search("и в на", SERVICES) == []


def test_the_limit_is_respected() -> None:
    assert len(search("справка", SERVICES, limit=3)) <= 3
