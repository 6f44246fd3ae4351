"""Chaos helpers: traffic over HTTP in the background, and settle-then-reconcile after a fault."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from testbed.harness import Api, Office, System

WINDOWS = {1: "service_id", 7: "other_service_id"}  # window -> which of the office's services it serves


def note(what: str) -> None:
    """Progress on stdout (-s): where a fault run spends its time."""
    print(f"{time.strftime('%H:%M:%S')} {what}", flush=True)


class Traffic:
    """Kiosks issue and operators serve over HTTP in the background, whatever fails meanwhile."""

    def __init__(self, api: Api, office: Office) -> None:
        self.api = api
        self.office = office
        self.failures: list[str] = []
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._round = 0

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            await self._task
        await self.finish_windows()

    async def issued_at_least(self, more: int, timeout: float = 60) -> None:
        """Wait until `more` further tickets were acknowledged (the fault happens mid-stream)."""
        target = len(self.api.issued) + more
        deadline = time.monotonic() + timeout
        while len(self.api.issued) < target:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"traffic stalled: {len(self.api.issued)} < {target}; {self.failures[-5:]}"
                )
            await asyncio.sleep(0.1)

    async def _run(self) -> None:
        while not self._stopping:
            self._round += 1
            window = 1 if self._round % 2 else 7
            await self._attempt(self._issue(getattr(self.office, WINDOWS[window])))
            await self._attempt(self._serve(window, no_show=self._round % 7 == 0))
            await asyncio.sleep(0.05)

    async def _attempt(self, step: Any) -> None:
        try:
            await step
        except (httpx.HTTPError, AssertionError) as error:  # the fault under test: note it, go on
            self.failures.append(repr(error)[:200])

    async def _issue(self, service_id: str) -> None:
        await self.api.issue(self.office, service_id)

    async def _serve(self, window: int, no_show: bool) -> None:
        called = await self.api.window(self.office, window, "call-next")
        if called.status_code == 409 and "waiting" in called.text:
            return
        if no_show and called.status_code == 200:
            await self.api.window(self.office, window, "no-show")
            return
        await self._finish(window)

    async def _finish(self, window: int) -> None:
        """Start and complete whatever is at the window (a step a fault interrupted included)."""
        await self.api.window(self.office, window, "start")
        await self.api.window(self.office, window, "complete", outcome="served")

    async def finish_windows(self) -> None:
        for window in WINDOWS:
            for _ in range(5):
                with contextlib.suppress(httpx.HTTPError):
                    await self._finish(window)
                    console = await self.api.call(
                        "GET",
                        f"{self.api.ticketing()}/windows/{self.office.office_id}/{window}",
                        role="supervisor",
                        office_id=self.office.office_id,
                    )
                    if console.status_code == 200 and console.json()["ticket"] is None:
                        break
                await asyncio.sleep(0.5)


@pytest.fixture(scope="module")
async def office(api: Api) -> Office:
    office = await api.create_office()
    for window, service in WINDOWS.items():
        opened = await api.window(office, window, "open", service_ids=[getattr(office, service)])
        assert opened.status_code == 200, opened.text
    return office


@pytest.fixture(scope="module")
async def traffic(api: Api, office: Office) -> AsyncIterator[Traffic]:
    flowing = Traffic(api, office)
    yield flowing
    if flowing._task is not None and not flowing._task.done():
        await flowing.stop()


async def reconciled(system: System, api: Api, tmp_path: Path, timeout: float = 150) -> dict[str, Any]:
    """Settle, then the reconciliation's report; fails with its discrepancies if it never comes clean."""
    acknowledged = tmp_path / "acknowledged.txt"
    acknowledged.write_text("\n".join(api.issued))
    started = time.monotonic()
    note("settling")
    report = await system.settle("--idle", "--acknowledged", str(acknowledged), timeout=timeout)
    report["settled_in_seconds"] = round(time.monotonic() - started, 1)
    print(
        json.dumps(
            {
                "counts": report["counts"],
                "dead_letters": report["dead_letters"],
                "settled_in_seconds": report["settled_in_seconds"],
            }
        )
    )
    assert report["ok"], json.dumps(report["discrepancies"], indent=1, ensure_ascii=False)
    assert report["counts"]["tickets_acknowledged"] == len(set(api.issued))
    return report
