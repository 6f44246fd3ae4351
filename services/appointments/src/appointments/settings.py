"""Configuration of the appointments service (env prefix APPOINTMENTS_, shared ONEWINDOW_* settings)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from servicekit.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="APPOINTMENTS_", extra="ignore")

    service_name: str = "appointments"
    http_port: int = 8003
    # How far ahead citizens may book.
    horizon_days: int = Field(default=30, ge=1, le=90)
    # Grid of the shared ("any service") appointment windows; a longer service takes several cells.
    shared_grid_minutes: int = Field(default=15, ge=5, le=120)
    # Check-in opens this long before the slot and closes this long after its start.
    checkin_early_minutes: int = Field(default=15, ge=0, le=120)
    checkin_grace_minutes: int = Field(default=10, ge=0, le=120)
    # Future bookings one citizen (by contact) may hold per service.
    max_bookings_per_service: int = Field(default=2, ge=1, le=20)
    # Messages that citizens' bookings and moves may send to one phone or e-mail a day (anyone can
    # type someone else's number: booking and cancelling again and again would flood it).
    max_messages_per_contact_per_day: int = Field(default=6, ge=1, le=100)
    # Moves of one booking per (office-local) day: each move messages the citizen.
    max_moves_per_day: int = Field(default=3, ge=1, le=20)
    # Failed check-ins before 429: per typed code (any caller), and per client address for callers
    # that are not a signed-in kiosk of the office (a kiosk is one address for a whole hall).
    checkin_max_failures: int = Field(default=10, ge=1)
    checkin_max_code_failures: int = Field(default=5, ge=1)
    checkin_failure_window_seconds: float = Field(default=300.0, gt=0)
    # How often bookings past their grace are marked missed and used codes are freed.
    sweep_seconds: float = Field(default=30.0, gt=0)
    # A booking keeps the citizen's (sealed) name and contact until this many days after its local
    # day ended, then loses them (docs/privacy.md).
    contact_retention_days: int = Field(default=1, ge=0, le=365)
    # Alternatives offered when a slot cannot be booked.
    alternatives: int = Field(default=5, ge=1, le=20)
