"""Staff tokens (JWT, HS256): role and office; FastAPI dependencies that enforce them."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Literal, Protocol

import jwt
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from servicekit.clock import SYSTEM_CLOCK

# reception: the consultant at the office's entrance desk (issues and books on a citizen's behalf).
Role = Literal["kiosk", "reception", "operator", "supervisor", "admin"]
ROLES: tuple[Role, ...] = ("kiosk", "reception", "operator", "supervisor", "admin")
_bearer = HTTPBearer(auto_error=False)


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    office_id: str | None  # None only for city-wide admins
    issued_at: float | None = None  # when the token was issued (seconds since the epoch, `iat_ms`)

    def may_act_in(self, office_id: str) -> bool:
        return (self.role == "admin" and self.office_id is None) or self.office_id == office_id


def issue_token(
    secret: str, *, subject: str, role: Role, office_id: str | None, ttl: timedelta = timedelta(hours=12)
) -> str:
    if not secret:
        raise ValueError("ONEWINDOW_JWT_SECRET is not set")
    now = SYSTEM_CLOCK.now()
    # `iat` has whole seconds; `iat_ms` tells a token from just after a revocation (in the same
    # second) from one just before it.
    claims = {
        "sub": subject,
        "role": role,
        "office": office_id,
        "iat": now,
        "iat_ms": int(now.timestamp() * 1000),
        "exp": now + ttl,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_token(secret: str, token: str) -> Principal:
    if not secret:
        raise HTTPException(503, detail="authentication is not configured (ONEWINDOW_JWT_SECRET)")
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["sub", "role", "exp"]})
    except jwt.PyJWTError as error:
        raise HTTPException(401, detail=f"invalid token: {error}") from error
    if claims["role"] not in ROLES:
        raise HTTPException(401, detail="invalid token: unknown role")
    issued = claims["iat_ms"] / 1000 if isinstance(claims.get("iat_ms"), int) else claims.get("iat")
    return Principal(
        subject=claims["sub"],
        role=claims["role"],
        office_id=claims.get("office"),
        issued_at=float(issued) if isinstance(issued, int | float) else None,
    )


def subject_ref(secret: str, subject: str) -> str:
    """A staff member's pseudonym in `catalog.StaffAccessRevoked`: HMAC-SHA256 of the username under
    the JWT key every service holds (so the topic carries no usernames), 32 hex characters."""
    return hmac.new(secret.encode(), f"staff-access:{subject}".encode(), hashlib.sha256).hexdigest()[:32]


class Revocations(Protocol):
    """Where a service looks up a staff member's latest revocation (`app.state.revocations`): the
    catalog's own accounts in the catalog, the CatalogView (built from the events) elsewhere."""

    async def revoked_at(self, subject: str, ref: str) -> datetime | None: ...


def refused_as_revoked(principal: Principal, revoked_at: datetime | None) -> bool:
    """A token issued at or before the revocation (to the millisecond, `iat_ms`)."""
    if revoked_at is None:
        return False
    return principal.issued_at is None or principal.issued_at <= revoked_at.timestamp()


async def check_not_revoked(revocations: Revocations | None, secret: str, principal: Principal) -> None:
    if revocations is None:
        return
    revoked = await revocations.revoked_at(principal.subject, subject_ref(secret, principal.subject))
    if refused_as_revoked(principal, revoked):
        raise HTTPException(
            401,
            detail="token revoked: the account was disabled, its password reset or its role "
            "changed; sign in again",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )


async def _principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None:
        raise HTTPException(
            401, detail="sign in: a staff token is required", headers={"WWW-Authenticate": "Bearer"}
        )
    return await staff_principal(request, credentials.credentials)


async def revoked_since(request: Request, principal: Principal) -> bool:
    """Whether the principal's token has been ended since it was checked (for long streams: a
    stream checks now and then and ends; the client's reconnect then gets 401)."""
    revocations: Revocations | None = getattr(request.app.state, "revocations", None)
    if revocations is None:
        return False
    secret = request.app.state.settings.jwt_secret.get_secret_value()
    return refused_as_revoked(
        principal, await revocations.revoked_at(principal.subject, subject_ref(secret, principal.subject))
    )


async def staff_principal(request: Request, token: str) -> Principal:
    """The principal of a staff token: valid signature, known role, not expired, not revoked."""
    secret = request.app.state.settings.jwt_secret.get_secret_value()
    principal = verify_token(secret, token)
    await check_not_revoked(getattr(request.app.state, "revocations", None), secret, principal)
    return principal


def require(*roles: Role) -> object:
    """Dependency: the caller holds one of `roles` (admins pass everywhere)."""

    async def check(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
        if principal.role not in roles and principal.role != "admin":
            raise HTTPException(403, detail=f"this needs the role {' or '.join(roles)}")
        return principal

    return Depends(check)


def require_office(principal: Principal, office_id: str) -> None:
    if not principal.may_act_in(office_id):
        raise HTTPException(403, detail=f"your token is for office {principal.office_id}, not {office_id}")
