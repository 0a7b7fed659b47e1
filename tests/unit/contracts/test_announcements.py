"""The announcement events stay inside the broker's event size at their largest."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from microblog_contracts import (
    CHUNK_BYTES,
    MAX_EVENT_BYTES,
    RECIPIENTS_PER_BATCH,
    AnnouncementAttachment,
    AnnouncementAttachmentData,
    AnnouncementCreated,
    AnnouncementCreatedData,
    AnnouncementRecipients,
    AnnouncementRecipientsData,
    AnnouncementText,
    AttachmentInfo,
    MailPreferences,
    MailProfile,
    Preference,
    QuietHours,
    decode_event,
)
from pydantic import ValidationError

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ID = "0193a1b2-0000-7000-8000-000000000001"


def largest_profile(user_id: int) -> MailProfile:
    # social's links: its base URL and a signed token, well under 200 characters
    url = "https://microblog.example.org/unsubscribe/" + "x" * 150
    return MailProfile(
        user_id=user_id, version=2**62, nickname="n" * 64, email=f"{'a' * 64}@{'d' * 60}.example.org",
        email_confirmed_at=NOW, locale="zh-Hans-CN-x-private", time_zone="America/Argentina/ComodRivadavia",
        preferences=MailPreferences(quiet_hours=QuietHours(start="22:00", end="07:00")),
        unsubscribe_urls={Preference.FOLLOW_NOTICES: url, Preference.ANNOUNCEMENTS: url})


def test_a_full_batch_of_the_largest_profiles_fits_in_one_event() -> None:
    event = AnnouncementRecipients(data=AnnouncementRecipientsData(
        announcement_id=ID, batch=2**31, recipients=[largest_profile(i + 1) for i in range(RECIPIENTS_PER_BATCH)]))
    body = event.to_json_bytes()
    assert len(body) < MAX_EVENT_BYTES
    assert decode_event(body) == event


def test_a_full_chunk_of_an_attachment_fits_in_one_event() -> None:
    data = base64.b64encode(bytes(range(256)) * (CHUNK_BYTES // 256)).decode()
    event = AnnouncementAttachment(data=AnnouncementAttachmentData(announcement_id=ID, index=99, chunk=1000, data=data))
    assert len(event.to_json_bytes()) < MAX_EVENT_BYTES
    with pytest.raises(ValidationError):  # one byte more than a chunk holds
        AnnouncementAttachmentData(announcement_id=ID, index=0, chunk=0, data=data + "AAAA")


def test_the_largest_announcement_fits_in_one_event() -> None:
    text = AnnouncementText(subject="公" * 200, text="告" * 3000, html="<p>" + "文" * 3000 + "</p>")
    attachments = [AttachmentInfo(index=i, filename="名" * 120, content_type="application/vnd.openxmlformats-x",
                                  size=10 * 1024 * 1024, sha256="0" * 64, chunks=285) for i in range(20)]
    event = AnnouncementCreated(data=AnnouncementCreatedData(
        announcement_id=ID, created_at=NOW, default=text, variants={"zh-CN": text}, attachments=attachments,
        recipients=100_000, recipient_batches=1667))
    assert len(event.to_json_bytes()) < MAX_EVENT_BYTES


def test_texts_past_the_bound_are_refused_with_their_size() -> None:
    text = AnnouncementText(subject="s", text="字" * 8000)
    with pytest.raises(ValidationError, match="bytes; at most"):
        AnnouncementCreatedData(announcement_id=ID, created_at=NOW, default=text, variants={"zh-CN": text},
                                recipients=1, recipient_batches=1)


@pytest.mark.parametrize("name", ["../etc/passwd", "a\\b", "line\nbreak", ""])
def test_a_file_name_cannot_carry_a_path_or_a_line_break(name: str) -> None:
    with pytest.raises(ValidationError):
        AttachmentInfo(index=0, filename=name, content_type="text/plain", size=1, sha256="0" * 64, chunks=1)


def test_a_subject_cannot_carry_a_line_break_into_a_header() -> None:
    with pytest.raises(ValidationError):
        AnnouncementText(subject="Hello\r\nBcc: everyone@example.org", text="hi")
