"""Citizens' contacts as one identity, and the admin erasure request every service holding them serves.

A phone typed as '+7 (900) 123-45-67' and '89001234567' is one citizen; e-mails ignore case. Services
find a citizen's data by keyed hashes of this identity (or, the notifier, by opening what is sealed),
never by storing the contact in clear.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated

import structlog
from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field, model_validator

from servicekit.auth import Principal, require

log = structlog.get_logger("servicekit.privacy")
Admin = Annotated[Principal, require("admin")]

ERASURE_PATH = "/admin/erasure"


def contact_identity(contact: str) -> str:
    """'tel:<last 10 digits>' for a phone, 'mail:<lower case>' for an e-mail address."""
    if "@" in contact:
        return "mail:" + contact.strip().lower()
    return "tel:" + re.sub(r"\D", "", contact)[-10:]


class ErasureRequest(BaseModel):
    """A citizen asked for their contact data to be erased (152-FZ art. 21, GDPR art. 17)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"phone": "+7 917 123-45-67"}]})

    phone: str | None = Field(default=None, min_length=10, max_length=32, pattern=r"^[0-9+()\- ]+$")
    email: str | None = Field(default=None, min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")

    @model_validator(mode="after")
    def _one_contact(self) -> ErasureRequest:
        if (self.phone is None) == (self.email is None):
            raise ValueError("give the phone or the e-mail address to erase (one of them)")
        return self

    @property
    def identity(self) -> str:
        return contact_identity(self.phone or self.email or "")


def erasure_router(erase: Callable[[str], Awaitable[dict[str, int]]]) -> APIRouter:
    """`POST /admin/erasure` for a service: a city-wide admin erases one citizen's contact data;
    `erase(identity)` returns what it erased, by kind. Internal listener only (not a public path)."""
    router = APIRouter(tags=["admin"])

    @router.post(
        ERASURE_PATH,
        summary="Erase one citizen's contact data on request (city-wide admin)",
        response_model=dict[str, int],
    )
    async def erase_contact(body: ErasureRequest, principal: Admin) -> dict[str, int]:
        if principal.office_id is not None:
            raise HTTPException(
                403, detail=f"this needs a city-wide admin; your token is for office {principal.office_id}"
            )
        erased = await erase(body.identity)
        log.info("contact data erased on request", by=principal.subject, **erased)
        return erased

    return router
