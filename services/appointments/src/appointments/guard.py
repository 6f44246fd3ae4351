"""Slows down code guessing at check-in: failed attempts per typed code and per client address."""

from __future__ import annotations

import time
from collections import deque

from appointments.domain import TooManyAttempts

MAX_TRACKED = 10_000


class FailureLimiter:
    """In-process sliding window of failures; each replica counts its own (the proxy pins kiosks)."""

    def __init__(self, max_failures: int, window_seconds: float) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        now = time.monotonic()
        failures = self._failures.get(key, deque())
        while failures and now - failures[0] > self.window_seconds:
            failures.popleft()
        return failures

    def check(self, key: str) -> None:
        failures = self._recent(key)
        if len(failures) >= self.max_failures:
            wait = max(1, round(self.window_seconds - (time.monotonic() - failures[0])))
            raise TooManyAttempts(
                "too many wrong codes; please wait a few minutes or ask at the reception",
                retry_after_seconds=wait,
            )

    def failed(self, key: str) -> None:
        if len(self._failures) >= MAX_TRACKED:
            self._failures = {k: v for k, v in self._failures.items() if self._recent(k)}
        failures = self._recent(key)
        failures.append(time.monotonic())
        self._failures[key] = failures
