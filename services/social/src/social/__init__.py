"""Microblog's social service: web pages, JSON API and the outbox that feeds RabbitMQ.

`create_app` lives in :mod:`social.app`; it is imported on first use so that the relay, which
needs no Flask, does not load the web app's libraries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from social.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from social.app import create_app

        return create_app
    raise AttributeError(f"module 'social' has no attribute {name!r}")
