"""Announcements as social publishes them, for tests of the notifier's side: the created event,
each attachment in chunks, the recipients in batches."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from microblog_contracts import (
    CHUNK_BYTES,
    RECIPIENTS_PER_BATCH,
    AnnouncementAttachment,
    AnnouncementAttachmentData,
    AnnouncementCancelled,
    AnnouncementCancelledData,
    AnnouncementCreated,
    AnnouncementCreatedData,
    AnnouncementRecipients,
    AnnouncementRecipientsData,
    AnnouncementText,
    AttachmentInfo,
    MailProfile,
)
from microblog_contracts.envelope import Envelope
from pydantic import BaseModel


@dataclass(frozen=True)
class File:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Announced:
    """An announcement's id and its events, in the order social's outbox writes them."""

    announcement_id: str
    created: AnnouncementCreated
    chunks: list[AnnouncementAttachment]
    batches: list[AnnouncementRecipients]

    @property
    def events(self) -> list[Envelope[BaseModel]]:
        return [self.created, *self.chunks, *self.batches]  # type: ignore[list-item]

    def cancelled(self, at: datetime | None = None) -> AnnouncementCancelled:
        return AnnouncementCancelled(data=AnnouncementCancelledData(
            announcement_id=self.announcement_id, cancelled_at=at or datetime.now(UTC)))


def announcement(recipients: Sequence[MailProfile], *, subject: str = "Microblog is two years old",
                 text: str = "Thank you for being here.\n\nRead more at https://microblog.example/news",
                 html: str | None = None, variants: Mapping[str, AnnouncementText] | None = None,
                 files: Sequence[File] = (), chunk_bytes: int = CHUNK_BYTES,
                 per_batch: int = RECIPIENTS_PER_BATCH) -> Announced:
    announcement_id = str(uuid.uuid4())
    infos, chunks = [], []
    for index, file in enumerate(files):
        pieces = [file.data[i:i + chunk_bytes] for i in range(0, len(file.data), chunk_bytes)]
        infos.append(AttachmentInfo(index=index, filename=file.filename, content_type=file.content_type,
                                    size=len(file.data), sha256=hashlib.sha256(file.data).hexdigest(),
                                    chunks=len(pieces)))
        chunks += [AnnouncementAttachment(data=AnnouncementAttachmentData(
            announcement_id=announcement_id, index=index, chunk=n, data=base64.b64encode(piece).decode()))
            for n, piece in enumerate(pieces)]
    batches = [AnnouncementRecipients(data=AnnouncementRecipientsData(
        announcement_id=announcement_id, batch=n, recipients=list(recipients[start:start + per_batch])))
        for n, start in enumerate(range(0, len(recipients), per_batch))]
    created = AnnouncementCreated(data=AnnouncementCreatedData(
        announcement_id=announcement_id, created_at=datetime.now(UTC),
        default=AnnouncementText(subject=subject, text=text, html=html), variants=dict(variants or {}),
        attachments=infos, recipients=len(recipients), recipient_batches=len(batches)))
    return Announced(announcement_id, created, chunks, batches)
