"""The settings every service shares; each service subclasses with its own env prefix."""

from __future__ import annotations

import hashlib

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Configuration only from the environment, with defaults that work on localhost.

    Shared infrastructure settings are read without the service prefix (ONEWINDOW_*), so one
    environment file serves all services; service-specific ones use the subclass's prefix.
    """

    model_config = SettingsConfigDict(env_prefix="ONEWINDOW_", extra="ignore")

    service_name: str = "service"
    kafka_bootstrap: str = Field(default="127.0.0.1:9092", validation_alias="ONEWINDOW_KAFKA")
    # SASL/SCRAM in production (deploy/kafka-security): one principal per service.
    kafka_sasl_username: str = Field(default="", validation_alias="ONEWINDOW_KAFKA_SASL_USERNAME")
    kafka_sasl_password: SecretStr = Field(
        default=SecretStr(""), validation_alias="ONEWINDOW_KAFKA_SASL_PASSWORD"
    )
    kafka_use_ssl: bool = Field(default=False, validation_alias="ONEWINDOW_KAFKA_USE_SSL")
    # CA certificate (PEM) the brokers' certificates are checked against; empty: the system's CAs.
    kafka_ssl_cafile: str = Field(default="", validation_alias="ONEWINDOW_KAFKA_SSL_CAFILE")
    mongo_url: str = Field(default="mongodb://127.0.0.1:27017", validation_alias="ONEWINDOW_MONGO_URL")
    mongo_db: str = ""  # default: "onewindow_<service_name>"
    topic_prefix: str = Field(default="", validation_alias="ONEWINDOW_TOPIC_PREFIX")
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    log_level: str = Field(default="INFO", validation_alias="ONEWINDOW_LOG_LEVEL")
    # HS256 key shared by the services to verify staff tokens. No default: the local scripts
    # generate one into var/secrets.env; tests generate their own.
    jwt_secret: SecretStr = Field(default=SecretStr(""), validation_alias="ONEWINDOW_JWT_SECRET")
    # Public key the citizen's contact and capability tokens are sealed with (base64).
    notifier_public_key: str = Field(default="", validation_alias="ONEWINDOW_NOTIFIER_PUBLIC_KEY")
    # Key of the keyed hashes (operator_ref, recipient_ref) that events and logs carry instead of ids.
    pseudonym_key: SecretStr = Field(default=SecretStr(""), validation_alias="ONEWINDOW_PSEUDONYM_KEY")
    # Proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated): the
    # per-client limits key on the address they report. Locally nginx runs on loopback.
    trusted_proxies: str = Field(default="127.0.0.1,::1", validation_alias="ONEWINDOW_TRUSTED_PROXIES")
    # Where citizens open their links (mobile ticket, feedback, booking management).
    public_url: str = Field(default="http://127.0.0.1:8080", validation_alias="ONEWINDOW_PUBLIC_URL")
    # Retries of a failing event handler before its message goes to the dead-letter topic.
    handler_retries: int = Field(default=3, validation_alias="ONEWINDOW_HANDLER_RETRIES")
    handler_backoff_seconds: float = Field(default=0.2, validation_alias="ONEWINDOW_HANDLER_BACKOFF")
    outbox_sweep_seconds: float = Field(default=2.0, validation_alias="ONEWINDOW_OUTBOX_SWEEP_SECONDS")
    consumer_stall_seconds: float = Field(default=300.0, validation_alias="ONEWINDOW_CONSUMER_STALL_SECONDS")
    # Request bodies above this are refused with 413 before a route reads them (nginx caps at 64k too).
    max_body_bytes: int = Field(default=65536, ge=1024, validation_alias="ONEWINDOW_MAX_BODY_BYTES")

    @property
    def pseudonym_secret(self) -> str:
        """The pseudonym key, or one derived from the JWT secret so all replicas agree."""
        key = self.pseudonym_key.get_secret_value()
        if key:
            return key
        return hashlib.sha256(b"pseudonym:" + self.jwt_secret.get_secret_value().encode()).hexdigest()

    @property
    def idempotency_secret(self) -> str:
        """Key of the citizen tokens derived for requests with an Idempotency-Key (same on all replicas)."""
        return hashlib.sha256(b"idempotency:" + self.jwt_secret.get_secret_value().encode()).hexdigest()

    @property
    def database_name(self) -> str:
        return self.mongo_db or f"onewindow_{self.service_name}"

    @property
    def group_id(self) -> str:
        return f"{self.topic_prefix}{self.service_name}"

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"
