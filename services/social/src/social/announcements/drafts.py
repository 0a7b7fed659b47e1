"""What an operator asks to announce, read from their files and checked before anything is written.

Every problem is a :class:`~social.announcements.errors.DraftRefused` whose message is one line
naming the option and file it is about: the words (:mod:`~social.announcements.texts`), the
language variants (:mod:`~social.announcements.variants`, which also says their file format) and
the attachments (:mod:`~social.announcements.attachments`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from microblog_contracts import AnnouncementText
from microblog_contracts.announcements import MAX_TEXT_BYTES

from social.announcements.attachments import AttachmentFile, read_attachments
from social.announcements.errors import DraftRefused
from social.announcements.files import read_text
from social.announcements.texts import announcement_text, checked_subject
from social.announcements.variants import read_variants


@dataclass(frozen=True)
class Draft:
    """An announcement that passed every check, not yet written."""

    default: AnnouncementText
    variants: dict[str, AnnouncementText]
    attachments: tuple[AttachmentFile, ...]

    @property
    def attachments_bytes(self) -> int:
        return sum(a.size for a in self.attachments)


def read_draft(
    *, subject: str, text_file: str, html_file: str | None = None,
    attach: Sequence[str] = (), locale_variants: Sequence[str] = (),
) -> Draft:
    """Read and check everything `social announce` was given; raises DraftRefused."""
    default = announcement_text(
        checked_subject(subject, "--subject"),
        read_text(text_file, "--text"),
        read_text(html_file, "--html") if html_file else None,
        where=f"--text {text_file}",
    )
    variants = read_variants(locale_variants)
    texts = [default, *variants.values()]
    size = sum(len(t.subject.encode()) + len(t.text.encode()) + len((t.html or "").encode()) for t in texts)
    if size > MAX_TEXT_BYTES:
        raise DraftRefused(f"the subjects, texts and HTML of all languages are {size:,} bytes together; "
                           f"at most {MAX_TEXT_BYTES:,} bytes ({MAX_TEXT_BYTES // 1024} KiB)")
    return Draft(default=default, variants=variants, attachments=read_attachments(attach))
