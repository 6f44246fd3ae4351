"""A crash after the batch's bulk write but before the offset commit: the replay changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from feedback.main import create_app
from feedback.settings import Settings
from servicekit.testing import Infra, eventually, publish, running, staff_headers

from .feedback_scenario import (
    OFFICE,
    SERVICE_ONLINE,
    Ticket,
    catalog_arrived,
    catalog_events,
    get_json,
)
from .test_fixture_day_and_replay import DAY, EXPECTED_OFFICE, fixture_day, settled_kpis, subset


async def test_a_replayed_batch_after_a_crash_before_the_commit_leaves_kpis_and_requests_as_they_were(
    infra: Infra, settings: Settings
) -> None:
    tickets, ratings = fixture_day()
    recent = Ticket(
        "recent", "А500", SERVICE_ONLINE, datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC).date()
    )
    recent.served(wait=60, service=120, window=1, operator="op-1")  # asks for feedback: a link still alive
    await publish(infra.kafka, settings.topic_prefix, catalog_events())
    await publish(
        infra.kafka, settings.topic_prefix, [e for t in [*tickets, recent] for e in t.events] + ratings
    )
    headers = staff_headers(settings, "supervisor", OFFICE)
    kpi_url = f"/offices/{OFFICE}/kpis?day={DAY}"

    crashing = create_app(settings)
    commits = 0

    async def crash_before_commit(offsets: Any) -> None:
        nonlocal commits
        commits += 1  # the process "dies" here every time: nothing is ever committed

    consumer = crashing.state.runtime.routers[0].consumer
    consumer._commit = crash_before_commit
    async with running(crashing) as client:
        await catalog_arrived(crashing)
        first = await settled_kpis(client, headers)
        request = await eventually(
            lambda: crashing.state.store.requests.collection.find_one({"ticket_id": "recent"}),
            lambda doc: doc is not None,
        )
    assert commits > 0 and subset(first, EXPECTED_OFFICE) == EXPECTED_OFFICE

    restarted = create_app(settings)  # same group, same database: everything is read again
    store = restarted.state.store
    replayed = restarted.state.runtime.routers[0].consumer
    async with running(restarted) as client:
        await eventually(lambda: _lag_zero(replayed), lambda done: done, within=60)
        assert await get_json(client, kpi_url, headers) == first
        requests = [doc async for doc in store.requests.collection.find({})]
        assert [(r["_id"], r["token_digest"]) for r in requests] == [
            (request["_id"], request["token_digest"])
        ]
        visit = await store.visit("recent")  # with its facts
        assert visit is not None and len(visit.legs) == 1 and len(set(visit.applied)) == len(visit.applied)


async def _lag_zero(consumer: Any) -> bool:
    lag = consumer.lag()
    return bool(lag) and sum(lag.values()) == 0 and len(consumer.committed) == len(lag)
