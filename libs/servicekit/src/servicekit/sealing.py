"""Personal data and capability tokens sealed for the notifier (libsodium sealed boxes)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox


class SealingError(ValueError):
    """A sealed value that cannot be opened with this key."""


def generate_keypair() -> tuple[str, str]:
    """(public, private) as base64, for the local scripts and tests."""
    private = PrivateKey.generate()
    return (
        base64.b64encode(bytes(private.public_key)).decode(),
        base64.b64encode(bytes(private)).decode(),
    )


class Sealer:
    """Anyone holding the notifier's public key can seal; only the notifier can open."""

    def __init__(self, public_key_b64: str) -> None:
        if not public_key_b64:
            raise ValueError("ONEWINDOW_NOTIFIER_PUBLIC_KEY is not set")
        self._box = SealedBox(PublicKey(base64.b64decode(public_key_b64)))

    def seal(self, value: str) -> str:
        return base64.b64encode(self._box.encrypt(value.encode())).decode()


class Unsealer:
    def __init__(self, private_key_b64: str) -> None:
        if not private_key_b64:
            raise ValueError("the notifier's private key is not set")
        self._box = SealedBox(PrivateKey(base64.b64decode(private_key_b64)))

    def unseal(self, sealed: str) -> str:
        try:
            return self._box.decrypt(base64.b64decode(sealed)).decode()
        except (CryptoError, ValueError) as error:
            raise SealingError("cannot open sealed value") from error


def new_citizen_token() -> str:
    """A capability token for a citizen link: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What a service stores of a citizen token: its SHA-256, so a database leak leaks no links."""
    return hashlib.sha256(token.encode()).hexdigest()


def pseudonym(value: str, key: str) -> str:
    """A keyed hash of an identifier (recipient, operator) that is safe to log and publish."""
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()[:16]


def operator_ref(subject: str, key: str, jwt_secret: str) -> str:
    """The pseudonym events carry for a staff member (`operator_ref`): keyed by the operator-ref key,
    or, when none is set, by one derived from the JWT secret (so ticketing, which writes it, and the
    catalog, which shows supervisors whose it is, agree)."""
    return pseudonym(subject, key or "operator-ref:" + jwt_secret)
