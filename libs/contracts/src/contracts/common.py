"""Value types shared by several event modules."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
# A citizen's contact or capability token, sealed (libsodium sealed box, base64) for the notifier alone.
Sealed = Annotated[str, StringConstraints(min_length=1, max_length=4096)]
Language = Annotated[str, StringConstraints(pattern=r"^(ru|tt|en)$")]


class LocalizedText(BaseModel):
    """Text in the office's three languages; Russian is required, the others fall back to it."""

    model_config = ConfigDict(frozen=True)

    ru: str = Field(min_length=1, max_length=2000)
    tt: str | None = Field(default=None, max_length=2000)
    en: str | None = Field(default=None, max_length=2000)

    def get(self, language: str) -> str:
        value = getattr(self, language, None) if language in ("ru", "tt", "en") else None
        return value or self.ru
