"""Staff accounts: scrypt password hashes and the limit on failed sign-ins per username."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

from servicekit.auth import Role

# scrypt cost at OWASP's recommendation (Password Storage Cheat Sheet: N=2^14, r=8, p=5, or an equal
# trade of memory for time): ~0.25 s per check, so guessing is slow and signing in is not. Hashes
# made with an older cost keep their scheme and are still checked with it.
_SCRYPT_N = 2**14
_SCRYPT_R = 8
_SCRYPT_P = 5
SCHEME = f"scrypt-{_SCRYPT_N}-{_SCRYPT_R}-{_SCRYPT_P}"
_KEY_BYTES = 32


class SignInFailed(Exception):
    """Unknown username or wrong password (one message for both: no hint which)."""

    def __init__(self) -> None:
        super().__init__("wrong username or password")


class TooManyAttempts(Exception):
    """Too many failed sign-ins for this username lately (429)."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many failed sign-ins: try again in {int(retry_after) + 1} s")
        self.details = {"retry_after_seconds": int(retry_after) + 1}


class UsernameTaken(Exception):
    """A staff account with this username exists (409)."""


class UnknownStaff(Exception):
    """No staff account with this username (404)."""


class SelfLockout(Exception):
    """An admin tried to disable their own account (409): someone else must do it."""


@dataclass(frozen=True)
class PasswordHash:
    salt: str
    digest: str

    def as_document(self) -> dict[str, str]:
        return {"salt": self.salt, "password_hash": self.digest, "hash_scheme": SCHEME}


def _scrypt(password: str, salt: bytes, scheme: str = SCHEME) -> bytes:
    _, n, r, p = scheme.split("-")
    return hashlib.scrypt(password.encode(), salt=salt, n=int(n), r=int(r), p=int(p), dklen=_KEY_BYTES)


def hash_password(password: str) -> PasswordHash:
    salt = secrets.token_bytes(16)
    return PasswordHash(salt.hex(), _scrypt(password, salt).hex())


def password_matches(password: str, salt_hex: str, digest_hex: str, scheme: str = SCHEME) -> bool:
    return hmac.compare_digest(_scrypt(password, bytes.fromhex(salt_hex), scheme).hex(), digest_hex)


@functools.cache
def dummy_hash() -> PasswordHash:
    """Checked against unknown usernames so they take as long as known ones (no timing hint); made on
    first use, not at import (one scrypt is ~0.1-0.5 s, paid by every process and test run that imports
    the catalog)."""
    return hash_password(secrets.token_urlsafe(16))


MIN_PASSWORD_LENGTH = 12


def password_problem(password: str, username: str) -> str | None:
    """Why a new staff password is too weak, or None (NIST 800-63B style: length, not symbol rules)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    if username.lower() in password.lower():
        return "a password must not contain the username"
    if len(set(password)) < 6:
        return "a password needs more different characters"
    return None


def new_password() -> str:
    return secrets.token_urlsafe(12)


@dataclass
class SignInLimiter:
    """Failed sign-ins in a sliding window, counted per username *and client address*.

    Usernames are predictable (`operator-<office>-<n>`), so a limit per username alone would let
    anyone lock every operator out by guessing wrong on purpose. Here a client that keeps guessing
    locks only itself: per (username, client) after `max_failures`, and per client over all
    usernames after `max_client_failures` (password spraying). Sign-ins from elsewhere go on.
    In memory (per replica) by design choice: it slows guessing without a shared counter that every
    failed attempt would have to write; the keys kept are bounded (`max_keys`).
    """

    max_failures: int = 5
    window_seconds: float = 300.0
    max_client_failures: int = 30
    max_keys: int = 100_000
    _failures: dict[tuple[str, str], deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and now - failures[0] > self.window_seconds:
            failures.popleft()
        return failures

    def _refuse_when_over(self, key: tuple[str, str], limit: int, now: float) -> None:
        failures = self._recent(key, now)
        if len(failures) >= limit:
            raise TooManyAttempts(self.window_seconds - (now - failures[-limit]))

    def check(self, username: str, client: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._refuse_when_over((username, client), self.max_failures, now)
        self._refuse_when_over(("", client), self.max_client_failures, now)

    def failed(self, username: str, client: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if len(self._failures) >= self.max_keys:
            self._forget_stale(now)
        self._recent((username, client), now).append(now)
        self._recent(("", client), now).append(now)

    def succeeded(self, username: str, client: str) -> None:
        self._failures.pop((username, client), None)

    def _forget_stale(self, now: float) -> None:
        for key in [
            k for k, times in self._failures.items() if not times or now - times[-1] > self.window_seconds
        ]:
            del self._failures[key]
        # Still full (a flood of fresh keys): drop the oldest half rather than grow without bound.
        if len(self._failures) >= self.max_keys:
            for key in list(self._failures)[: self.max_keys // 2]:
                del self._failures[key]


ROLES_WITH_OFFICE: tuple[Role, ...] = ("kiosk", "operator", "supervisor")
