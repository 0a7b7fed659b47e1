"""The social service's settings: one typed object, read from the environment once at start."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Literal

from flask import current_app
from limits import parse_many
from microblog_contracts import NoticeMode
from microblog_plumbing.brokers import split_amqp_urls
from microblog_plumbing.databases import check_database_url
from microblog_plumbing.moments import parse_duration
from pydantic import AnyHttpUrl, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SocialSettings(BaseSettings):
    """Everything `social serve`, `social relay` and the app factory read.

    Field names are the environment variable names (case-insensitive). A test builds one with
    keyword arguments and overrides only what differs.
    """

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    database_url: str = Field(
        default="sqlite:///var/social.db",
        description="SQLAlchemy URL; a relative SQLite path is taken from the working directory.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs sessions and CSRF tokens; unset, one is generated and kept in var/.",
    )
    social_bind: str = Field(default="127.0.0.1:5000", pattern=r"^[^\s:]*:\d{1,5}$")
    social_base_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:5000")
    social_workers: int = Field(default=2, ge=1, le=64)
    social_threads: int = Field(default=8, ge=1, le=256)
    amqp_url: str = Field(default="amqp://guest:guest@localhost:5672/%2F")
    relay_batch_size: int = Field(default=500, ge=1, le=10_000)
    relay_poll_interval: float = Field(default=0.05, gt=0, le=60)
    relay_confirm_timeout: float = Field(default=10.0, gt=0, le=600)
    relay_http_bind: str = Field(default="127.0.0.1:8082", pattern=r"^[^\s:]*:\d{1,5}$")
    login_rate_limit: str = Field(
        default="10 per minute", description="Password checks per client address (pages and API together)."
    )
    login_account_rate_limit: str = Field(
        default="10 per hour", description="Failed password checks per account, from any client."
    )
    signup_rate_limit: str = Field(default="10 per hour", description="Sign-ups per client address.")
    follow_rate_limit: str = Field(
        default="60 per minute;1000 per day", description="Follows and unfollows per user (pages and API together)."
    )
    post_rate_limit: str = Field(
        default="30 per minute;500 per day", description="Posts per user (pages and API together)."
    )
    ratelimit_storage_url: SecretStr | None = Field(
        default=None,
        description="Where rate limits are counted (e.g. redis://host:6379/0); unset: the database.",
    )
    session_cookie_secure: bool | None = Field(
        default=None, description="Send cookies over HTTPS only; unset: when SOCIAL_BASE_URL is https."
    )
    trusted_proxies: int = Field(
        default=0, ge=0, le=10, description="Proxies in front of the web app whose X-Forwarded-For/-Proto to believe."
    )
    outbox_retention: timedelta = Field(
        default=timedelta(days=30), description="How long published events keep the addresses they carry."
    )
    password_reset_rate_limit: str = Field(
        default="10 per hour", description="Password reset requests per client address."
    )
    password_reset_address_rate_limit: str = Field(
        default="3 per hour", description="Password reset requests per e-mail address asked about."
    )
    confirmation_rate_limit: str = Field(
        default="3 per hour", description="New confirmation links a user may ask for."
    )
    follow_notice_default: NoticeMode = Field(
        default=NoticeMode.BATCHED,
        description="How users who have not chosen hear of new followers (the notifier reads the same setting).",
    )
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @field_validator("amqp_url")
    @classmethod
    def _amqp_url(cls, url: str) -> str:
        """One broker, or a cluster's nodes separated by commas; each entry checked as the notifier
        checks it."""
        return ",".join(split_amqp_urls(url))

    @field_validator(
        "login_rate_limit", "login_account_rate_limit", "signup_rate_limit", "follow_rate_limit", "post_rate_limit",
        "password_reset_rate_limit", "password_reset_address_rate_limit", "confirmation_rate_limit",
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError:
            raise ValueError("not a rate limit (e.g. '10 per minute' or '5/minute;50/hour')") from None
        return value

    @field_validator("outbox_retention", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        return parse_duration(value) if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, url: str) -> str:
        """Relative SQLite paths are taken from the working directory, not Flask's instance path."""
        return check_database_url(url, example="sqlite:///var/social.db")

    @property
    def base_url(self) -> str:
        """The public base URL without a trailing slash, for absolute links."""
        return str(self.social_base_url).rstrip("/")

    @property
    def cookies_secure(self) -> bool:
        """Whether cookies carry `Secure`: as configured, else when the public URL is https."""
        if self.session_cookie_secure is not None:
            return self.session_cookie_secure
        return self.social_base_url.scheme == "https"

    def secret(self) -> str:
        """The secret key: the configured one, else one kept in `var/social-secret-key`, readable
        by its owner only (made so before the key is written, whatever the umask)."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = Path("var/social-secret-key")
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(48))
        path.chmod(0o600)  # a key file from before this check may be looser
        return path.read_text().strip()


def current_settings() -> SocialSettings:
    """The settings of the app handling the current request (or whose app context is pushed)."""
    settings: SocialSettings = current_app.extensions["social_settings"]
    return settings
