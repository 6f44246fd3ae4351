"""Configuration of the ticketing service (env prefix TICKETING_, shared ONEWINDOW_* settings)."""

from __future__ import annotations

from pydantic import SecretStr, model_validator
from pydantic_settings import SettingsConfigDict
from servicekit.settings import ServiceSettings


class Settings(ServiceSettings):
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
    # Where the other replicas reach this one (requests for offices it owns are forwarded here);
    # default http://<http_host>:<http_port>. In Kubernetes: the pod's address.
    advertised_url: str = ""
    # How long a request for an office in handover waits for its new owner before a 503.
    handover_wait_seconds: float = 5.0
    # Partitions of the ownership topic: at most this many replicas share the offices.
    ownership_partitions: int = 12
    # A replica that stops heartbeating loses its offices after this long.
    ownership_session_timeout_ms: int = 10000
    # A snapshot of an office every this many log entries (or seconds with changes): bounds takeover.
    snapshot_every: int = 500
    snapshot_seconds: float = 60.0

    @model_validator(mode="after")
    def _default_advertised_url(self) -> Settings:
        if not self.advertised_url:
            self.advertised_url = f"http://{self.http_host}:{self.http_port}"
        return self
