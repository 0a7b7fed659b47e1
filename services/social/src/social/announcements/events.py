"""An announcement's contract events, built from a draft (see :mod:`microblog_contracts.announcements`)."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from microblog_contracts import (
    AnnouncementAttachment,
    AnnouncementAttachmentData,
    AnnouncementCancelled,
    AnnouncementCancelledData,
    AnnouncementCreated,
    AnnouncementCreatedData,
    AnnouncementRecipients,
    AnnouncementRecipientsData,
    MailProfile,
)
from microblog_contracts.announcements import CHUNK_BYTES, AttachmentInfo
from microblog_contracts.envelope import MAX_EVENT_BYTES

from social.announcements.attachments import AttachmentFile
from social.announcements.drafts import Draft
from social.announcements.errors import DraftRefused


def attachment_infos(draft: Draft) -> list[AttachmentInfo]:
    """What `announcement.created` says of each attachment."""
    return [
        AttachmentInfo(index=index, filename=a.filename, content_type=a.content_type, size=a.size,
                       sha256=a.sha256, chunks=chunk_count(a.size))
        for index, a in enumerate(draft.attachments)
    ]


def chunk_count(size: int) -> int:
    return -(-size // CHUNK_BYTES)


def created_event(
    draft: Draft, *, announcement_id: str, at: datetime, recipients: int, batches: int
) -> AnnouncementCreated:
    return AnnouncementCreated(time=at, data=AnnouncementCreatedData(
        announcement_id=announcement_id, created_at=at, default=draft.default, variants=draft.variants,
        attachments=attachment_infos(draft), recipients=recipients, recipient_batches=batches,
    ))


def attachment_events(
    attachments: Sequence[AttachmentFile], *, announcement_id: str, at: datetime
) -> Iterator[AnnouncementAttachment]:
    """Every attachment's `announcement.attachment` chunks, in order, made as they are asked for."""
    for index, attachment in enumerate(attachments):
        for chunk in range(chunk_count(attachment.size)):
            piece = attachment.content[chunk * CHUNK_BYTES:(chunk + 1) * CHUNK_BYTES]
            yield AnnouncementAttachment(time=at, data=AnnouncementAttachmentData(
                announcement_id=announcement_id, index=index, chunk=chunk, data=base64.b64encode(piece).decode()))


def recipients_event(
    profiles: Sequence[MailProfile], *, announcement_id: str, batch: int, at: datetime, event_id: str
) -> AnnouncementRecipients:
    return AnnouncementRecipients(id=event_id, time=at, data=AnnouncementRecipientsData(
        announcement_id=announcement_id, batch=batch, recipients=list(profiles)))


def cancelled_event(announcement_id: str, *, at: datetime) -> AnnouncementCancelled:
    return AnnouncementCancelled(time=at, data=AnnouncementCancelledData(announcement_id=announcement_id,
                                                                        cancelled_at=at))


def check_created_fits(draft: Draft) -> None:
    """Refuse texts whose `announcement.created` would be over the contract's MAX_EVENT_BYTES once
    encoded (JSON escapes quotes and line breaks), counting recipients at their largest."""
    probe = created_event(draft, announcement_id="0" * 36, at=datetime.now(UTC), recipients=2**31, batches=2**31)
    size = len(probe.to_json_bytes())
    if size > MAX_EVENT_BYTES:
        raise DraftRefused(f"the texts are {size:,} bytes once encoded in the event; at most {MAX_EVENT_BYTES:,}: "
                           "shorten the text or HTML")
