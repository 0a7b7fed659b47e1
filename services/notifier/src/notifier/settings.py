"""The notifier's settings: one typed object, read from the environment once at start.

Mail settings keep the Flask Mega-Tutorial's names (MAIL_SERVER, MAIL_PORT, ...). Secrets come
only from the environment and are `SecretStr`, so they never print or reach a log.
"""

from __future__ import annotations

from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Literal

from microblog_contracts import NoticeMode
from microblog_plumbing.brokers import split_amqp_urls
from microblog_plumbing.databases import check_database_url
from microblog_plumbing.moments import parse_duration
from microblog_plumbing.settings import split_list
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: What a command that sends mail says when no From address is set.
NO_SENDER = "MAIL_DEFAULT_SENDER: set MAIL_DEFAULT_SENDER or ADMINS: mail needs a sender"


def _user_of(amqp_url: str) -> str:
    """The user an AMQP URL connects as (pika's `guest` when it names none)."""
    import pika  # only the commands that talk to a broker pay for pika's import

    credentials = pika.URLParameters(amqp_url).credentials
    if not isinstance(credentials, pika.PlainCredentials):
        raise ValueError("the broker URL must name a user and password (amqp://user:password@host/vhost)")
    return str(credentials.username)


def _check_address(value: str) -> None:
    """`addr@domain` or `Name <addr@domain>`: one address, no line breaks."""
    _, address = parseaddr(value)
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in address) or "\n" in value:
        raise ValueError(f"not an e-mail address: {value!r}")


class NotifierSettings(BaseSettings):
    """Everything the notifier's commands read. Field names are the variable names."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    amqp_url: str = "amqp://guest:guest@localhost:5672/%2F"
    amqp_heartbeat: int = Field(default=30, ge=0, le=600, description="seconds; 0 turns heartbeats off")
    notifier_trusted_publishers: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["relay"],
        description="AMQP users whose events are taken (compose's relay by default); AMQP_URL's own user always is")

    mail_server: str = "localhost"
    mail_port: int = Field(default=25, ge=1, le=65535)
    mail_use_tls: bool = False
    mail_use_ssl: bool = False
    mail_username: str | None = None
    mail_password: SecretStr | None = None
    mail_default_sender: str | None = None
    mail_transactional_sender: str | None = None
    mail_notification_sender: str | None = None
    mail_bulk_sender: str | None = None
    mail_postal_address: str = Field(default="", max_length=300, pattern=r"^[^\r\n]*$")
    mail_dkim_key_file: Path | None = None
    mail_dkim_selector: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,63}$")
    mail_dkim_domain: str | None = Field(default=None, pattern=r"^[A-Za-z0-9.-]{1,253}$")
    admins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    mail_timeout: float = Field(default=30.0, gt=0, le=600)
    mail_max_connections: int = Field(
        default=64, ge=1, le=256,
        description="the most SMTP sessions at once: the notifier finds how many the server takes, up to this")
    mail_adaptive_connections: bool = Field(
        default=True, description="false: always MAIL_MAX_CONNECTIONS sessions, whatever the server answers")
    mail_ca_file: Path | None = Field(default=None, description="extra CA bundle to trust (PEM)")
    mail_rate_limit: float = Field(default=0, ge=0, le=100_000,
                                   description="bulk mails a second over every replica; 0: unlimited")

    notifier_queue: str = Field(default="notifier.user-followed", pattern=r"^[A-Za-z0-9._-]{1,200}$")
    notifier_queue_type: Literal["quorum", "classic"] = "quorum"
    notifier_queue_max_bytes: int = Field(
        default=512 * 1024**2, ge=0,
        description="bytes the work and bulk queues hold, past which the broker refuses publishes (the relay "
                    "retries); 0: no queue argument (bound them with a RabbitMQ policy instead)")
    notifier_prefetch: int | None = Field(default=None, ge=1, le=65535)
    notifier_retry_delays: Annotated[list[timedelta], NoDecode] = Field(
        default_factory=lambda: [parse_duration(d) for d in ("10s", "1m", "10m", "1h", "6h")]
    )
    notifier_max_attempts: int = Field(default=6, ge=1, le=100)
    notifier_retry_jitter: float = Field(default=0.1, ge=0, lt=1)
    notifier_cooldown: timedelta = Field(default=timedelta(hours=24))
    notifier_follow_grace: timedelta = Field(default=timedelta(seconds=60))
    notifier_batch_window: timedelta = Field(default=timedelta(minutes=15))
    follow_notice_default: NoticeMode = NoticeMode.BATCHED
    notifier_scheduler_lease: timedelta = Field(default=timedelta(minutes=1))
    notifier_scheduler_poll: float = Field(default=5.0, gt=0, le=300)
    notifier_bulk_concurrency: int = Field(default=2, ge=0, le=64, description="SMTP sessions sending bulk mail")
    notifier_bulk_prefetch: int = Field(default=2, ge=1, le=100)
    notifier_daily_cap: int = Field(default=50, ge=0, le=100_000, description="a day per address; 0: no cap")
    notifier_alert_interval: timedelta = Field(default=timedelta(minutes=15))
    notifier_database_url: str = "sqlite:///var/notifier.db"
    notifier_ledger_commit_interval: float = Field(default=0.02, gt=0, le=5)
    notifier_http_bind: str = Field(default="127.0.0.1:8081", pattern=r"^[^\s:]*:\d{1,5}$")
    notifier_stream: str = Field(default="social.events.log", pattern=r"^[A-Za-z0-9._-]{1,200}$")
    notifier_stream_max_age: str = Field(default="7D", pattern=r"^\d+(Y|M|D|h|m|s)$")
    notifier_stream_max_bytes: int = Field(default=2 * 1024**3, ge=1024**2)
    templates_dir: Path | None = None
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @field_validator("admins", "notifier_trusted_publishers", mode="before")
    @classmethod
    def _list(cls, value: object) -> object:
        return split_list(value)

    @field_validator("admins")
    @classmethod
    def _admin_addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            _check_address(address)
        return value

    @field_validator("mail_default_sender", "mail_transactional_sender", "mail_notification_sender",
                     "mail_bulk_sender")
    @classmethod
    def _sender_address(cls, value: str | None) -> str | None:
        if value is not None:
            _check_address(value)
        return value

    @field_validator("notifier_retry_delays", mode="before")
    @classmethod
    def _delays(cls, value: object) -> object:
        value = split_list(value)
        if isinstance(value, list):
            return [parse_duration(v) if isinstance(v, str) else v for v in value]
        return value

    @field_validator("notifier_cooldown", "notifier_alert_interval", "notifier_follow_grace", "notifier_batch_window",
                     "notifier_scheduler_lease", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        return parse_duration(value) if isinstance(value, str) else value

    @field_validator("amqp_url")
    @classmethod
    def _amqp_url(cls, url: str) -> str:
        users = {_user_of(one) for one in split_amqp_urls(url)}
        if len(users) > 1:
            # The notifier's copies of messages carry its user (user_id), which the broker checks
            # against the connection's: every node must be spoken to as the same user.
            raise ValueError(f"every broker must be given the same user; got {', '.join(sorted(users))}")
        return url

    @field_validator("notifier_database_url")
    @classmethod
    def _database_url(cls, url: str) -> str:
        return check_database_url(url, example="sqlite:///var/notifier.db")

    @field_validator("templates_dir")
    @classmethod
    def _templates_exist(cls, path: Path | None) -> Path | None:
        if path is not None and not path.is_dir():
            raise ValueError(f"{path} is not a directory")
        return path

    @model_validator(mode="after")
    def _consistent(self) -> NotifierSettings:
        if self.mail_use_tls and self.mail_use_ssl:
            raise ValueError("MAIL_USE_TLS and MAIL_USE_SSL exclude each other: STARTTLS or SMTPS, not both")
        if (self.mail_username is None) != (self.mail_password is None):
            raise ValueError("set both MAIL_USERNAME and MAIL_PASSWORD, or neither")
        if not self.notifier_retry_delays:
            raise ValueError("NOTIFIER_RETRY_DELAYS needs at least one delay")
        dkim = (self.mail_dkim_key_file, self.mail_dkim_selector, self.mail_dkim_domain)
        if any(v is not None for v in dkim) and not all(v is not None for v in dkim):
            raise ValueError("set MAIL_DKIM_KEY_FILE, MAIL_DKIM_SELECTOR and MAIL_DKIM_DOMAIN together, or none")
        if self.mail_dkim_key_file is not None and not self.mail_dkim_key_file.is_file():
            raise ValueError(f"MAIL_DKIM_KEY_FILE: {self.mail_dkim_key_file} is not a readable file")
        if self.notifier_scheduler_lease.total_seconds() <= self.mail_timeout:
            raise ValueError("NOTIFIER_SCHEDULER_LEASE must be longer than MAIL_TIMEOUT: a replica holds a "
                             "recipient for at least one send")
        for name in ("notifier_follow_grace", "notifier_batch_window"):
            if getattr(self, name) < timedelta(0):
                raise ValueError(f"{name.upper()} cannot be negative")
        return self

    @property
    def amqp_user(self) -> str:
        """The AMQP user the notifier connects as: the `user_id` of the messages it publishes."""
        return _user_of(split_amqp_urls(self.amqp_url)[0])

    @property
    def trusted_publishers(self) -> frozenset[str]:
        """The AMQP users whose events the notifier takes: NOTIFIER_TRUSTED_PUBLISHERS and its own."""
        return frozenset(self.notifier_trusted_publishers) | {self.amqp_user}

    @property
    def has_sender(self) -> bool:
        """Whether mail has a From address. Only the commands that send mail need one (`notifier
        run`, `send-test`, `replay`): `notifier dlq` and `skipped` read and republish, and need none."""
        return bool(self.mail_default_sender or self.admins)

    @property
    def sender(self) -> str:
        """The From address: MAIL_DEFAULT_SENDER, else the first of ADMINS (as the tutorial does).
        Raises ValueError (:data:`NO_SENDER`) when neither is set."""
        if not self.has_sender:
            raise ValueError(NO_SENDER)
        return self.mail_default_sender or self.admins[0]

    def sender_for(self, policy: str) -> str:
        """The From address of `transactional`, `notification` or `bulk` mail (MAIL_<POLICY>_SENDER)."""
        chosen: str | None = getattr(self, f"mail_{policy}_sender")
        return chosen or self.sender

    @property
    def prefetch(self) -> int:
        """Messages the broker may push ahead. Each waits for its ledger group commit before its
        ack, so the window must cover a commit interval's worth of mail, not just the sessions; and
        work must be seen waiting for the SMTP concurrency to grow (:mod:`notifier.concurrency`)."""
        return self.notifier_prefetch or max(200, 3 * self.mail_max_connections)
