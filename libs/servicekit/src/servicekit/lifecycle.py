"""Background tasks that stop on time: the wait between runs of a periodic loop, and their end.

A cancel can be swallowed inside a library call (a store or Kafka call); a loop that then went back
to sleep held a stop past Kubernetes' 30 s grace period. So loops wait on a stop flag, not only for
their cancel, and a stop waits for cancelled tasks for a bounded time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any


async def pause(stopping: asyncio.Event, seconds: float) -> bool:
    """Wait `seconds`, or less if `stopping` is set; True when it is (the loop should end)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), timeout=seconds)
    return stopping.is_set()


async def cancel_within(tasks: Iterable[asyncio.Task[Any]], seconds: float) -> set[asyncio.Task[Any]]:
    """Cancel the tasks and wait for them at most `seconds`; the ones still running (left behind)."""
    tasks = list(tasks)
    for task in tasks:
        task.cancel()
    if not tasks:
        return set()
    _, running = await asyncio.wait(tasks, timeout=seconds)
    return running
