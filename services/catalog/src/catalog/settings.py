"""Configuration of the catalog service (env prefix CATALOG_, shared ONEWINDOW_* settings)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import SettingsConfigDict
from servicekit.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CATALOG_", extra="ignore")

    service_name: str = "catalog"
    http_port: int = 8001
    # Services are city-wide: their events travel with the city as envelope office_id.
    city_id: str = "kazan"
    # Failed sign-ins allowed per username from one client within the window before 429, and per
    # client over all usernames.
    signin_max_failures: int = 5
    signin_max_client_failures: int = 30
    signin_window_seconds: float = 300.0
    # The key of operator pseudonyms (operator_ref in events): the same as ticketing's, so
    # supervisors see whose figures they read. Empty: derived from the JWT secret, as in ticketing.
    operator_ref_key: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices("CATALOG_OPERATOR_REF_KEY", "TICKETING_OPERATOR_REF_KEY"),
    )
