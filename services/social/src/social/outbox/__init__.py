"""The transactional outbox: events written in the same transaction as the change they describe,
published to RabbitMQ afterwards by the relay (`social relay`).

The web app's side (`OutboxEvent`, `record_event`, `user_followed_event`) is imported on first
use, so the relay, which reads :mod:`social.outbox.schema` only, never loads Flask.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from social.outbox.events import user_followed_event
    from social.outbox.models import OutboxEvent, record_event

__all__ = ["OutboxEvent", "record_event", "user_followed_event"]


def __getattr__(name: str) -> Any:
    if name == "user_followed_event":
        from social.outbox.events import user_followed_event

        return user_followed_event
    if name in ("OutboxEvent", "record_event"):
        from social.outbox import models

        return getattr(models, name)
    raise AttributeError(f"module 'social.outbox' has no attribute {name!r}")
