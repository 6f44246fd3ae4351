"""Configuration of the notifier service (env prefix NOTIFIER_, shared ONEWINDOW_* settings)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict
from servicekit.settings import ServiceSettings

# office_id -> template name -> language -> text; replaces the built-in text for that office.
TemplateOverrides = dict[str, dict[str, dict[str, str]]]


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFIER_", extra="ignore")

    service_name: str = "notifier"
    http_port: int = 8005
    # Opens the contacts and tokens the other services sealed with ONEWINDOW_NOTIFIER_PUBLIC_KEY.
    private_key: SecretStr = SecretStr("")
    # Keyed hash of recipients (recipient_ref in events); falls back to the private key.
    pseudonym_key: SecretStr = Field(default=SecretStr(""), validation_alias="ONEWINDOW_PSEUDONYM_KEY")
    public_url: str = Field(default="http://127.0.0.1:8080", validation_alias="ONEWINDOW_PUBLIC_URL")
    ticket_link_path: str = "/t/{token}"
    appointment_link_path: str = "/a/{token}"
    feedback_link_path: str = "/feedback/{token}"

    # "log": SMS and e-mail are written (masked) to log_path instead of leaving the machine.
    channel: Literal["live", "log"] = "log"
    log_path: str = "var/log/notifications.log"
    sms_url: str = "http://127.0.0.1:9025/sms"
    sms_token: SecretStr = SecretStr("")
    sms_timeout_seconds: float = 5.0
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_from: str = "onewindow@localhost"
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 10.0
    supervisor_emails: dict[str, list[str]] = Field(default_factory=dict, examples=[{"office": ["a@b"]}])

    # Gateway errors and timeouts: this many tries in all, backoff doubling from send_backoff_seconds.
    send_attempts: int = Field(default=4, ge=1, le=20)
    send_backoff_seconds: float = Field(default=1.0, ge=0)
    # A replica that died mid-send: its claim on a delivery lapses after this long.
    send_lease_seconds: float = 120.0
    delivery_sweep_seconds: float = 5.0

    position_threshold: int = Field(default=3, ge=1)
    # Office local time; non-urgent messages (reminders, feedback links) wait until it ends. "" = none.
    quiet_hours: str = Field(
        default="21:00-09:00", pattern=r"^(([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d)?$"
    )
    # Office local time; urgent SMS (confirmations, calls) wait until it ends unless the office is
    # open then (a citizen in the hall of an office open at night still gets the call). "" = none.
    night_hours: str = Field(
        default="22:00-08:00", pattern=r"^(([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d)?$"
    )
    # Messages to one citizen's phone or e-mail per office-local day, whatever caused them (anyone can
    # type someone else's number); past it a message is not sent (logged with the recipient's hash).
    max_messages_per_recipient_per_day: int = Field(default=12, ge=1, le=1000)
    reminder_sweep_seconds: float = 5.0
    # After a visit ends the contact is kept this long for the feedback link, then purged.
    contact_grace_minutes: float = 120.0
    # Finished tickets are remembered this long, so a replayed event never puts one back in line.
    ticket_memory_days: float = Field(default=14.0, gt=0)
    # Checklists sent on request: at most this many a day to one phone or e-mail.
    checklists_per_contact_per_day: int = Field(default=5, ge=1, le=50)
    template_overrides: TemplateOverrides = Field(default_factory=dict)

    # The consumer groups this process runs: "messages" (the main group: messages, waiting list,
    # progress, the board's waiting numbers) and "board" (the hall's calls, `<group>-board`).
    # Both by default; deployed as two processes (messages; board) so that the calls never share
    # an event loop with the bulk work (docs/performance.md). HTTP routes and jobs run in each.
    consumers: str = Field(default="messages,board", pattern=r"^(messages|board)(,(messages|board))?$")

    board_calls_kept: int = Field(default=20, ge=1, le=200)
    board_poll_seconds: float = 0.1
    sse_heartbeat_seconds: float = 15.0
    sse_client_queue: int = Field(default=32, ge=1)

    def consumes(self, group: Literal["messages", "board"]) -> bool:
        return group in self.consumers.split(",")
