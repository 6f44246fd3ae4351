"""`python -m catalog.republish`: send every office's and service's current state events again.

For a consumer that starts from nothing (new service, lost topic): the events go out unchanged,
with their original event_id and aggregate_version, so consumers that already have them ignore them.
"""

from __future__ import annotations

import asyncio
import sys

from servicekit.runtime import ServiceRuntime

from catalog.settings import Settings
from catalog.store import CatalogStore
from catalog.usecases import Catalog


async def run(settings: Settings) -> int:
    runtime = ServiceRuntime(settings)
    await runtime.producer.start()
    try:
        return await Catalog(CatalogStore(runtime.db), settings).republish(runtime.publish)
    finally:
        await runtime.producer.stop()
        await runtime.mongo.close()


def main() -> int:
    sent = asyncio.run(run(Settings()))
    print(f"catalog republished: {sent} events")
    return 0


if __name__ == "__main__":
    sys.exit(main())
