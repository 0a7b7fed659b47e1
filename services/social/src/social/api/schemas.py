"""Request and response bodies of the API; the OpenAPI document is generated from these.

Request bodies forbid unknown fields: a misspelt `about_me` is an error (422) rather than a
silently ignored field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationInfo, field_validator

from social.accounts import (
    ABOUT_ME_MAX,
    DEFAULT_LOCALE,
    EMAIL_MAX,
    LOCALES,
    NICKNAME_MAX,
    NICKNAME_PATTERN,
    PASSWORD_MAX,
    PASSWORD_MIN,
    RESERVED_NICKNAMES,
    normalize_email,
    normalize_nickname,
)
from social.forms import FREE_TEXT_PATTERN
from social.nicknames import RESERVED
from social.passwords import password_problem

Locale = Annotated[str, Field(json_schema_extra={"enum": list(LOCALES)})]


_RESERVED: list[JsonValue] = [name for name in sorted(RESERVED_NICKNAMES | RESERVED)]
_NICKNAME_SCHEMA: dict[str, JsonValue] = {
    "minLength": 1,
    "maxLength": NICKNAME_MAX,
    "pattern": NICKNAME_PATTERN,
    "not": {"enum": _RESERVED},
}


class UserCreate(BaseModel):
    """A sign-up."""

    model_config = ConfigDict(extra="forbid", title="UserCreate")

    # Checked by `normalize_nickname` (the contract's rule and a friendlier message); the
    # schema shows the same rule.
    nickname: str = Field(
        description="Letters of one script (Chinese, Japanese and Korean may mix theirs, and Latin), digits, "
        "'.', '_' and '-', NFKC-normalised; no invisible characters; not a reserved name (any case); unique "
        "whatever its case and whatever it looks like (UTS #39 skeletons: a 409 for a look-alike of a taken one).",
        json_schema_extra=_NICKNAME_SCHEMA,
    )
    email: Annotated[str, Field(max_length=EMAIL_MAX, json_schema_extra={"format": "email"})]
    password: Annotated[str, Field(
        min_length=PASSWORD_MIN, max_length=PASSWORD_MAX,
        description="Not one of the 20,000 most common passwords, nor your nickname or address.",
    )]
    about_me: Annotated[str, Field(
        max_length=ABOUT_ME_MAX, pattern=FREE_TEXT_PATTERN,
        description="No control characters but tabs and line breaks, and no text-direction overrides.",
    )] | None = None
    locale: Locale = DEFAULT_LOCALE

    @field_validator("nickname")
    @classmethod
    def _valid_nickname(cls, value: str) -> str:
        return normalize_nickname(value)

    @field_validator("locale")
    @classmethod
    def _offered_locale(cls, value: str) -> str:
        if value not in LOCALES:
            raise ValueError(f"choose one of {', '.join(LOCALES)}")
        return value

    @field_validator("email")
    @classmethod
    def _deliverable_shape(cls, value: str) -> str:
        return normalize_email(value)

    @field_validator("password")
    @classmethod
    def _not_guessable(cls, value: str, info: ValidationInfo) -> str:
        problem = password_problem(value, nickname=info.data.get("nickname", ""), email=info.data.get("email", ""))
        if problem is not None:
            raise ValueError(problem)
        return value


class SignUpAccepted(BaseModel):
    """A sign-up taken: the same answer whether or not the address had an account (its owner
    is told by mail)."""

    message: str
    nickname: str


class UserOut(BaseModel):
    """A user's public profile; `email` only when the caller asks about themselves."""

    id: int
    nickname: str
    about_me: str | None
    avatar_url: str = Field(json_schema_extra={"format": "uri"}, description="An identicon made from the user id.")
    last_seen: datetime | None = Field(description="To the minute; null when the user hides it.")
    follower_count: int = Field(ge=0)
    following_count: int = Field(ge=0)
    profile_url: str = Field(json_schema_extra={"format": "uri"})
    email: str | None = Field(default=None, json_schema_extra={"format": "email"})


class PageLinks(BaseModel):
    self: str
    next: str | None
    prev: str | None


class FollowersPage(BaseModel):
    """One page of a user's followers, newest follow first."""

    items: list[UserOut]
    page: int = Field(ge=1)
    per_page: int = Field(ge=1)
    total: int = Field(ge=0)
    pages: int = Field(ge=0)
    links: PageLinks


class TokenOut(BaseModel):
    """A bearer token; shown once, only its hash is kept."""

    token: str
    expires_at: datetime


class ErrorOut(BaseModel):
    """Every error the API answers."""

    error: str = Field(description="A short, stable code such as `not_found`.")
    message: str = Field(description="What went wrong, for a person to read.")
    fields: dict[str, str] | None = Field(
        default=None, description="Per-field messages when a request body or query is invalid."
    )
