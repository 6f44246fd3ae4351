"""What one operation by `_id` costs as a collection grows: the same operations on a small and on a
large collection of the same store, in one run; the ratio large/small is the figure (1.0: the cost
does not grow with the collection).

    uv run python bench/store_lookups.py [--small 200] [--large 20000] [--ops 100]

FerretDB 1.24's PostgreSQL backend could not use its own indexes for these (every operation read
the whole table) until `deploy/local/infra.sh` added the GIN indexes of
deploy/local/postgres/ferretdb-pushdown-indexes.sql; docs/performance.md has both runs.
Result: bench/results/store_lookups.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

MONGO_URL = os.environ.get("ONEWINDOW_MONGO_URL", "mongodb://127.0.0.1:27017")
RESULTS = Path(__file__).parent / "results" / "store_lookups.json"
PAD = "x" * 200  # about the size of a small visit or ticket document


async def per_op_ms(ops: int, op: Callable[[int], Awaitable[Any]]) -> float:
    began = time.perf_counter()
    for i in range(ops):
        await op(i)
    return (time.perf_counter() - began) / ops * 1000


async def measure(col: AsyncCollection[dict[str, Any]], size: int, ops: int) -> dict[str, float]:
    await col.insert_many(
        [{"_id": f"k{i}", "office_id": f"o{i % 60}", "v": i, "pad": PAD} for i in range(size)]
    )
    step = max(1, size // ops)  # spread over the collection
    return {
        "find_one_by_id": await per_op_ms(ops, lambda i: col.find_one({"_id": f"k{i * step}"})),
        "replace_one_by_id": await per_op_ms(
            ops, lambda i: col.replace_one({"_id": f"k{i * step}"}, {"office_id": "o1", "v": -i, "pad": PAD})
        ),
        "update_one_by_id": await per_op_ms(
            ops, lambda i: col.update_one({"_id": f"k{i * step}"}, {"$set": {"v": i}})
        ),
        "delete_one_by_id": await per_op_ms(ops, lambda i: col.delete_one({"_id": f"k{i * step + 1}"})),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--large", type=int, default=20_000)
    parser.add_argument("--ops", type=int, default=100)
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO_URL)
    db = client[f"bench_lookups_{uuid.uuid4().hex[:8]}"]
    try:
        info = await client.admin.command("buildInfo")
        small = await measure(db["small"], args.small, min(args.ops, args.small // 2))
        large = await measure(db["large"], args.large, args.ops)
    finally:
        await client.drop_database(db.name)
        await client.close()
    record = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "label": args.label,
        "store": f"FerretDB {info['ferretdbVersion']}"
        if "ferretdbVersion" in info
        else f"MongoDB {info['version']}",
        "load": os.getloadavg()[0],
        "documents": {"small": args.small, "large": args.large},
        "ms_per_op_small": {k: round(v, 2) for k, v in small.items()},
        "ms_per_op_large": {k: round(v, 2) for k, v in large.items()},
        "ratio_large_to_small": {k: round(large[k] / small[k], 2) for k in small},
    }
    print(json.dumps(record, indent=2))
    runs = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    RESULTS.write_text(json.dumps([*runs, record], indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
