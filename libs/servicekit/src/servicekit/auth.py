"""Staff tokens (JWT, HS256): role and office; FastAPI dependencies that enforce them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Literal

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

    def may_act_in(self, office_id: str) -> bool:
        return (self.role == "admin" and self.office_id is None) or self.office_id == office_id


def issue_token(
    secret: str, *, subject: str, role: Role, office_id: str | None, ttl: timedelta = timedelta(hours=12)
) -> str:
    if not secret:
        raise ValueError("ONEWINDOW_JWT_SECRET is not set")
    now = SYSTEM_CLOCK.now()
    claims = {"sub": subject, "role": role, "office": office_id, "iat": now, "exp": now + ttl}
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
    return Principal(subject=claims["sub"], role=claims["role"], office_id=claims.get("office"))


async def _principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None:
        raise HTTPException(
            401, detail="sign in: a staff token is required", headers={"WWW-Authenticate": "Bearer"}
        )
    return verify_token(request.app.state.settings.jwt_secret.get_secret_value(), credentials.credentials)


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
