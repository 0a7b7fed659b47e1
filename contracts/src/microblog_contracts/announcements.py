"""Announcements: one mail an operator sends to every confirmed user who has announcements on,
with attachments.

Social publishes an announcement as a handful of events through its outbox, so a stopped social or
notifier resumes where it was: `announcement.created` (the texts, per language, and what the
attachments are), `announcement.attachment` (each attachment in chunks, so every event stays small
and an attachment crosses the broker once, not once per recipient), `announcement.recipients`
(who gets it, in batches of mail profiles) and, if it is called off, `announcement.cancelled`.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from microblog_contracts.envelope import Envelope, EventId
from microblog_contracts.profiles import Locale, MailProfile

ANNOUNCEMENT_CREATED: Final = "announcement.created"
ANNOUNCEMENT_CREATED_V1_SCHEMA: Final = "urn:microblog:schema:announcement.created:1"
ANNOUNCEMENT_ATTACHMENT: Final = "announcement.attachment"
ANNOUNCEMENT_ATTACHMENT_V1_SCHEMA: Final = "urn:microblog:schema:announcement.attachment:1"
ANNOUNCEMENT_RECIPIENTS: Final = "announcement.recipients"
ANNOUNCEMENT_RECIPIENTS_V1_SCHEMA: Final = "urn:microblog:schema:announcement.recipients:1"
ANNOUNCEMENT_CANCELLED: Final = "announcement.cancelled"
ANNOUNCEMENT_CANCELLED_V1_SCHEMA: Final = "urn:microblog:schema:announcement.cancelled:1"

#: All of an announcement's attachments together.
MAX_ATTACHMENTS_BYTES: Final = 10 * 1024 * 1024
#: Raw bytes per `announcement.attachment` event (base64 makes it a third larger, inside 64 KiB).
CHUNK_BYTES: Final = 36 * 1024
#: Mail profiles per `announcement.recipients` event, at most: a publisher packs fewer when their
#: profiles are long (the event must stay under MAX_EVENT_BYTES).
RECIPIENTS_PER_BATCH: Final = 60
#: The UTF-8 bytes of an announcement's subjects, texts and HTML in all its languages together.
MAX_TEXT_BYTES: Final = 40 * 1024

#: One line, no control characters: it becomes a mail header.
Subject = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
#: A file name a mail client may show and save: no path, no control characters.
FileName = Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[^/\\\x00-\x1f\x7f]+$")]
ContentType = Annotated[str, Field(max_length=100, pattern=r"^[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*$")]


class AnnouncementText(BaseModel):
    """The words of an announcement in one language: a subject, a text, and optionally HTML."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    subject: Subject
    text: Annotated[str, Field(min_length=1, max_length=16_000)]
    html: Annotated[str, Field(max_length=24_000)] | None = None


class AttachmentInfo(BaseModel):
    """One attachment, as every recipient gets it; its bytes follow in `announcement.attachment`."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    index: Annotated[int, Field(ge=0, le=99)]
    filename: FileName
    content_type: ContentType
    size: Annotated[int, Field(ge=0, le=MAX_ATTACHMENTS_BYTES)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    chunks: Annotated[int, Field(ge=0, le=1000)]


class AnnouncementCreatedData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    announcement_id: EventId
    created_at: AwareDatetime
    #: The words for every reader whose language has no variant.
    default: AnnouncementText
    variants: Annotated[dict[Locale, AnnouncementText], Field(max_length=8)] = Field(default_factory=dict)
    attachments: Annotated[list[AttachmentInfo], Field(max_length=20)] = Field(default_factory=list)
    #: How many recipients and batches of them follow (the notifier knows when it has them all).
    recipients: Annotated[int, Field(ge=0, le=2**31)]
    recipient_batches: Annotated[int, Field(ge=0, le=2**31)]

    @model_validator(mode="after")
    def _texts_fit(self) -> AnnouncementCreatedData:
        texts = [self.default, *self.variants.values()]
        size = sum(len(t.subject.encode()) + len(t.text.encode()) + len((t.html or "").encode()) for t in texts)
        if size > MAX_TEXT_BYTES:
            raise ValueError(f"the texts of all languages together are {size} bytes; at most {MAX_TEXT_BYTES}")
        return self


class AnnouncementCreated(Envelope[AnnouncementCreatedData]):
    type: Literal["announcement.created"] = ANNOUNCEMENT_CREATED
    dataschema: Literal["urn:microblog:schema:announcement.created:1"] = ANNOUNCEMENT_CREATED_V1_SCHEMA


class AnnouncementAttachmentData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    announcement_id: EventId
    index: Annotated[int, Field(ge=0, le=99)]
    chunk: Annotated[int, Field(ge=0, le=1000)]
    #: Base64 of at most CHUNK_BYTES bytes.
    data: Annotated[str, Field(max_length=(CHUNK_BYTES + 2) // 3 * 4)]


class AnnouncementAttachment(Envelope[AnnouncementAttachmentData]):
    type: Literal["announcement.attachment"] = ANNOUNCEMENT_ATTACHMENT
    dataschema: Literal["urn:microblog:schema:announcement.attachment:1"] = ANNOUNCEMENT_ATTACHMENT_V1_SCHEMA


class AnnouncementRecipientsData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    announcement_id: EventId
    batch: Annotated[int, Field(ge=0, le=2**31)]
    recipients: Annotated[list[MailProfile], Field(max_length=RECIPIENTS_PER_BATCH)]


class AnnouncementRecipients(Envelope[AnnouncementRecipientsData]):
    type: Literal["announcement.recipients"] = ANNOUNCEMENT_RECIPIENTS
    dataschema: Literal["urn:microblog:schema:announcement.recipients:1"] = ANNOUNCEMENT_RECIPIENTS_V1_SCHEMA


class AnnouncementCancelledData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    announcement_id: EventId
    cancelled_at: AwareDatetime


class AnnouncementCancelled(Envelope[AnnouncementCancelledData]):
    type: Literal["announcement.cancelled"] = ANNOUNCEMENT_CANCELLED
    dataschema: Literal["urn:microblog:schema:announcement.cancelled:1"] = ANNOUNCEMENT_CANCELLED_V1_SCHEMA
