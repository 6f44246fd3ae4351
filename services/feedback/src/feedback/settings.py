"""Configuration of the feedback service (env prefix FEEDBACK_, shared ONEWINDOW_* settings)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict
from servicekit.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FEEDBACK_", extra="ignore")

    service_name: str = "feedback"
    http_port: int = 8004
    # How long a feedback link stays usable after the end of the visit.
    expires_days: int = 3
    # Rebuild mode: only the projections (visits, ratings, windows) are written; no feedback
    # requests or alerts are created, so replaying old topics never texts a citizen twice.
    projections_only: bool = False
    # Consumer group override: a rebuild reads the topics from the beginning under a new group,
    # into a fresh database (FEEDBACK_MONGO_DB), while the live service keeps running.
    consumer_group: str = ""
    # A window's rating screen offers the visit completed there for this many minutes.
    window_rating_minutes: int = 10
    # Free text people wrote (a rating's comment, a supervisor's note on an alert) is forgotten this
    # many days after it was written; ratings, tags and the numbers stay (docs/privacy.md).
    text_retention_days: int = 90
    # Longest period one CSV export may cover (each day is computed from raw visit facts).
    max_export_days: int = 92
