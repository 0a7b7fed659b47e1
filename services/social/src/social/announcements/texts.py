"""The words of an announcement in one language, checked against the contract's bounds with
messages an operator can act on."""

from __future__ import annotations

import re

from microblog_contracts import AnnouncementText
from pydantic import ValidationError

from social.announcements.errors import DraftRefused

#: The contract's bounds (see :mod:`microblog_contracts.announcements`), named for our messages.
SUBJECT_MAX_CHARS = 200
TEXT_MAX_CHARS = 16_000
HTML_MAX_CHARS = 24_000

CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def checked_subject(subject: str, where: str) -> str:
    """`subject` without surrounding blanks, if it can be a mail's Subject header."""
    subject = subject.strip()
    if "\n" in subject or "\r" in subject:
        raise DraftRefused(f"{where}: the subject must be one line (it becomes a mail header)")
    if CONTROL_CHARACTERS.search(subject):
        raise DraftRefused(f"{where}: the subject must not hold control characters")
    if not subject:
        raise DraftRefused(f"{where}: the subject is empty")
    if len(subject) > SUBJECT_MAX_CHARS:
        raise DraftRefused(f"{where}: the subject is {len(subject)} characters; at most {SUBJECT_MAX_CHARS}")
    return subject


def announcement_text(subject: str, text: str, html: str | None, *, where: str) -> AnnouncementText:
    if not text.strip():
        raise DraftRefused(f"{where}: the text is empty")
    if len(text) > TEXT_MAX_CHARS:
        raise DraftRefused(f"{where}: the text is {len(text):,} characters; at most {TEXT_MAX_CHARS:,}")
    if html is not None and not html.strip():
        raise DraftRefused(f"{where}: its HTML file is empty")
    if html is not None and len(html) > HTML_MAX_CHARS:
        raise DraftRefused(f"{where}: its HTML is {len(html):,} characters; at most {HTML_MAX_CHARS:,}")
    try:
        return AnnouncementText(subject=subject, text=text, html=html)
    except ValidationError as exc:  # the checks above should have said it first
        raise DraftRefused(f"{where}: {exc.errors()[0]['msg']}") from None
