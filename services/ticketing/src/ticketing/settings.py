"""Configuration of the ticketing service (env prefix TICKETING_, shared ONEWINDOW_* settings)."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict
from servicekit.settings import ServiceSettings


class TicketingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TICKETING_", extra="ignore")

    service_name: str = "ticketing"
    http_port: int = 8002
    # Issue tickets whatever the office hours say (demos at night); end of day then only closes
    # tickets left from earlier days.
    ignore_hours: bool = False
    # Key of the operator pseudonym in events (operator_ref); empty = derived from the JWT secret.
    operator_ref_key: SecretStr = SecretStr("")
    max_calls: int = 3
    ageing_share: float = 2 / 3
    appointment_early_minutes: int = 5
    # Anonymous (web) tickets per client IP per minute; kiosks with a token are not limited.
    anonymous_tickets_per_minute: int = 10
    # At most one QueueStatus per office per this many seconds.
    queue_status_interval_seconds: float = 1.0
    sla_check_seconds: float = 15.0
    end_of_day_check_seconds: float = 60.0
    public_ticket_path: str = "/t/"
