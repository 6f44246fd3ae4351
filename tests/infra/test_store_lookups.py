"""A lookup by `_id` or by an indexed field reads an index, not the whole collection.

FerretDB 1.24 (PostgreSQL backend) pushes an equality filter down as `_jsonb->$1 @> $2`, which the
btree indexes it creates cannot serve: every find, replace and delete by `_id` read the whole table
(18-34 ms per operation at 20,000 documents). `deploy/local/infra.sh` adds GIN indexes that serve
that form (deploy/local/postgres/ferretdb-pushdown-indexes.sql) to every collection, including
those created after the store started, as this test's are. On MongoDB the same test reads the
winning plan.

Needs a running store: `deploy/local/infra.sh up` (URL from ONEWINDOW_MONGO_URL).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

DOCUMENTS = 3000


def _nodes(plan: Any) -> Iterator[dict[str, Any]]:
    if isinstance(plan, dict):
        yield plan
        for value in plan.values():
            yield from _nodes(value)
    elif isinstance(plan, list):
        for value in plan:
            yield from _nodes(value)


def reads_an_index(explained: dict[str, Any]) -> bool:
    planner = explained["queryPlanner"]
    if "Plan" in planner:  # FerretDB: PostgreSQL's plan
        nodes = list(_nodes(planner["Plan"]))
        return any("Index Name" in n for n in nodes) and not any(
            n.get("Node Type") == "Seq Scan" for n in nodes
        )
    stages = {n.get("stage") for n in _nodes(planner["winningPlan"])}  # MongoDB
    return bool(stages & {"IXSCAN", "IDHACK", "EXPRESS_IXSCAN", "EXPRESS_CLUSTERED_IXSCAN"})


async def test_lookups_by_id_and_by_indexed_fields_read_an_index(db: AsyncDatabase[dict[str, Any]]) -> None:
    visits = db["visits"]
    await visits.insert_many(
        [
            {
                "_id": f"t{i}",
                "office_id": f"o{i % 60}",
                "local_day": f"2026-11-{1 + i % 28:02d}",
                "ticket_id": f"k{i}",
            }
            for i in range(DOCUMENTS)
        ]
    )
    await visits.create_index([("office_id", ASCENDING), ("local_day", ASCENDING)])
    await visits.create_index([("ticket_id", ASCENDING)])

    for query in ({"_id": "t1234"}, {"ticket_id": "k77"}, {"office_id": "o7", "local_day": "2026-11-08"}):
        explained = await db.command("explain", {"find": "visits", "filter": query})
        assert reads_an_index(explained), (query, explained["queryPlanner"])
    assert (await visits.find_one({"_id": "t1234"}) or {}).get("ticket_id") == "k1234"
    assert await visits.count_documents({"office_id": "o7", "local_day": "2026-11-08"}) == len(
        [i for i in range(DOCUMENTS) if i % 60 == 7 and i % 28 == 7]
    )
