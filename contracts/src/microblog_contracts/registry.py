"""Decoding raw message bodies into typed events, with a named reason when that fails."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from microblog_contracts import accounts, announcements, mail, profiles, user_followed
from microblog_contracts.envelope import MAX_EVENT_BYTES, DecodeFailure, Envelope, EventDecodeError

_MODELS: list[type[Envelope[Any]]] = [
    user_followed.UserFollowedV1, user_followed.UserFollowed, user_followed.UserUnfollowed,
    profiles.UserProfileChanged, profiles.UserDeleted,
    accounts.EmailConfirmationRequested, accounts.PasswordResetRequested, accounts.EmailChangeRequested,
    accounts.EmailSignupAttempted,
    mail.MailActivity, mail.MailBounced,
    announcements.AnnouncementCreated, announcements.AnnouncementAttachment,
    announcements.AnnouncementRecipients, announcements.AnnouncementCancelled,
]


def _by_type(models: list[type[Envelope[Any]]]) -> dict[str, dict[str, type[Envelope[BaseModel]]]]:
    found: dict[str, dict[str, type[Envelope[BaseModel]]]] = {}
    for model in models:
        fields = model.model_fields
        found.setdefault(fields["type"].default, {})[fields["dataschema"].default] = model
    return found


#: Every event type and data schema version this contract knows, with its model.
EVENT_TYPES: Mapping[str, Mapping[str, type[Envelope[BaseModel]]]] = _by_type(_MODELS)

_ENVELOPE_KEYS = ("specversion", "id", "type", "dataschema", "data")


def decode_event(body: bytes) -> Envelope[BaseModel]:
    """Parse and validate a structured-mode CloudEvent body.

    Raises :class:`EventDecodeError` naming why the body cannot be read: too large, not JSON,
    not a CloudEvent, an unknown type or data schema version, or data that fails validation.
    """
    if len(body) > MAX_EVENT_BYTES:
        raise EventDecodeError(DecodeFailure.TOO_LARGE, f"{len(body)} bytes > {MAX_EVENT_BYTES}")
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EventDecodeError(DecodeFailure.NOT_JSON, str(exc)) from None
    except RecursionError:  # nesting deeper than any event has: unreadable, never worth a retry
        raise EventDecodeError(DecodeFailure.NOT_JSON, "nested too deeply") from None
    if not isinstance(document, dict) or any(key not in document for key in _ENVELOPE_KEYS):
        missing = [k for k in _ENVELOPE_KEYS if not isinstance(document, dict) or k not in document]
        raise EventDecodeError(DecodeFailure.NOT_CLOUDEVENT, f"missing {', '.join(missing)}")
    versions = EVENT_TYPES.get(str(document["type"]))
    if versions is None:
        raise EventDecodeError(DecodeFailure.UNKNOWN_TYPE, repr(document["type"])[:100])
    model = versions.get(str(document["dataschema"]))
    if model is None:
        raise EventDecodeError(DecodeFailure.UNKNOWN_VERSION, repr(document["dataschema"])[:200])
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise EventDecodeError(DecodeFailure.INVALID_DATA, _summarise(exc)) from None
    except RecursionError:
        raise EventDecodeError(DecodeFailure.INVALID_DATA, "nested too deeply") from None


def _summarise(exc: ValidationError) -> str:
    """One line naming each invalid field, without echoing the (possibly huge) input."""
    parts = [f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:5]]
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
