"""The bodies of the posts and people parts of the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from social.api.schemas import PageLinks, UserOut
from social.forms import FREE_TEXT_PATTERN
from social.posts import POST_MAX


class PostCreate(BaseModel):
    """A new post."""

    model_config = ConfigDict(extra="forbid", title="PostCreate")

    body: Annotated[str, Field(
        min_length=1, max_length=POST_MAX, pattern=FREE_TEXT_PATTERN,
        description="Up to 280 characters, line breaks kept; blanks around it are dropped, and a post of "
        "blanks only is a 422. No control characters but tabs and line breaks, no text-direction overrides.",
    )]


class AuthorOut(BaseModel):
    id: int
    nickname: str
    avatar_url: str = Field(json_schema_extra={"format": "uri"})
    profile_url: str = Field(json_schema_extra={"format": "uri"})


class PostOut(BaseModel):
    """One post."""

    id: int
    body: str
    created_at: datetime
    author: AuthorOut


class CursorLinks(BaseModel):
    """Where the pages beside this one start: `older` (`?before=`) and `newer` (`?after=`)."""

    self: str
    older: str | None
    newer: str | None


class PostsPage(BaseModel):
    """Posts, newest first, one page; a new post never moves a post from one page to another."""

    items: list[PostOut]
    links: CursorLinks


class UsersFound(BaseModel):
    """Users, one page of them; `links.next` is the next page (null on the last)."""

    items: list[UserOut]
    links: PageLinks
