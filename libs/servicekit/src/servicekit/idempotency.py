"""Idempotency-Key on creates: a retried request gets what the first one created, never a second one.

The key is claimed before anything is created, with one unique insert (atomic on FerretDB and
MongoDB alike, so it holds across replicas): `{_id: "<scope>:<sha256(key)>", request, resource_id,
expires_at}`. The claim fixes the id of the resource the request creates, so:
- a retry with the same request gets the same `resource_id`; the service returns the resource it
  finds under that id, or creates it now if the first attempt never got that far. The resource's
  own unique `_id` (and ticketing's one writer per office) makes a retry racing the first attempt
  create nothing twice;
- the same key with a different request is refused (`IdempotencyKeyReused`, 422);
- a claim expires after `ttl` (24 h); the sweeper deletes it (FerretDB has no TTL indexes), and a
  claim found expired is taken afresh.

Citizen links of a created resource are derived from its resource id under a server secret
(`citizen_token`), so a replay can hand the citizen the same link while only the token's digest is
ever stored.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Header, Request
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from servicekit.clock import SYSTEM_CLOCK
from servicekit.store import ConcurrentChange, Document

KEY_HEADER = "Idempotency-Key"
COLLECTION = "_idempotency"
DEFAULT_TTL = timedelta(hours=24)
RUN_STALE = timedelta(seconds=30)

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=KEY_HEADER,
        min_length=8,
        max_length=128,
        pattern=r"^[!-~]+$",
        description=(
            "A random key per intent (8-128 printable ASCII characters). A retry with the same key "
            "and the same request returns what the first one created; the same key with another "
            "request is refused with 422. Keys are kept 24 h."
        ),
    ),
]


class IdempotencyKeyReused(Exception):
    """The key was already used for a different request."""


@dataclass(frozen=True)
class Claim:
    claim_id: str
    resource_id: str
    # True when the key had been claimed before: the request is a retry.
    seen_before: bool


def request_digest(*parts: str) -> str:
    """What identifies a request under its key (caller, path, canonical body)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


class IdempotencyKeys:
    def __init__(self, db: AsyncDatabase[Document], secret: str, ttl: timedelta = DEFAULT_TTL) -> None:
        self.collection = db[COLLECTION]
        self._secret = secret.encode()
        self.ttl = ttl

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("expires_at", ASCENDING)])

    async def claim(self, scope: str, key: str, request: str, now: datetime | None = None) -> Claim:
        """The resource id this key stands for; IdempotencyKeyReused for another request."""
        now = now or SYSTEM_CLOCK.now()
        claim_id = f"{scope}:{hashlib.sha256(key.encode()).hexdigest()}"
        for _ in range(3):
            resource_id = uuid.uuid4().hex
            fresh = {
                "_id": claim_id,
                "request": request,
                "resource_id": resource_id,
                "created_at": now,
                "expires_at": now + self.ttl,
            }
            try:
                await self.collection.insert_one(fresh)
                return Claim(claim_id, resource_id, seen_before=False)
            except DuplicateKeyError:
                pass
            held = await self.collection.find_one({"_id": claim_id})
            if held is None:
                continue  # swept between the insert and the read
            if held["expires_at"] <= now:
                await self.collection.delete_one({"_id": claim_id, "expires_at": held["expires_at"]})
                continue
            if held["request"] != request:
                raise IdempotencyKeyReused(
                    f"this {KEY_HEADER} was already used for a different request; "
                    "send a new key for a new request"
                )
            return Claim(claim_id, str(held["resource_id"]), seen_before=True)
        raise ConcurrentChange(f"this {KEY_HEADER} is being claimed by another request; retry")

    @contextlib.asynccontextmanager
    async def one_at_a_time(self, claim: Claim, wait: float = 10.0) -> AsyncIterator[None]:
        """Attempts of one key run one after the other, on any replica (a unique insert is the lock).

        For services whose create takes several claims (seats, limits): a retry racing its first
        attempt would otherwise take them twice. A lock left by a crashed attempt goes stale after
        RUN_STALE; an attempt that cannot get the lock within `wait` is a 409 to retry.
        """
        lock_id = "run:" + claim.claim_id
        deadline = time.monotonic() + wait
        while True:
            now = SYSTEM_CLOCK.now()
            try:
                await self.collection.insert_one({"_id": lock_id, "expires_at": now + RUN_STALE})
                break
            except DuplicateKeyError:
                held = await self.collection.find_one({"_id": lock_id})
                if held is not None and held["expires_at"] <= now:
                    await self.collection.delete_one({"_id": lock_id, "expires_at": held["expires_at"]})
                    continue
            if time.monotonic() > deadline:
                raise ConcurrentChange(f"the first request with this {KEY_HEADER} is still running; retry")
            await asyncio.sleep(0.05)
        try:
            yield
        finally:
            await self.collection.delete_one({"_id": lock_id})

    def citizen_token(self, resource_id: str) -> str:
        """The citizen link token of a resource created under a key (256 bits, URL-safe)."""
        mac = hmac.new(self._secret, f"citizen-token:{resource_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    async def sweep(self, now: datetime | None = None) -> int:
        """Forget expired keys."""
        result = await self.collection.delete_many({"expires_at": {"$lte": now or SYSTEM_CLOCK.now()}})
        return result.deleted_count


async def _keys_of_app(request: Request) -> IdempotencyKeys:
    keys = request.app.state.idempotency
    if not isinstance(keys, IdempotencyKeys):
        raise TypeError("the service did not ask its runtime for idempotency keys")
    return keys


# The route dependency: the service's keys (`ServiceRuntime.idempotency()` puts them on the app).
Keys = Annotated[IdempotencyKeys, Depends(_keys_of_app)]
