"""An announcement made ready to send, once for all its recipients: each language's words with the
layout's CSS inlined into its HTML, and each attachment checked and encoded as a MIME part.

A recipient then costs one render of the layout around the words and one join of bytes: the
attachment crosses the broker once and is base64-encoded once, however many get it.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import css_inline
from markupsafe import Markup
from microblog_contracts import AnnouncementCreatedData, AnnouncementText

from notifier.errors import BadAttachment
from notifier.mime import attachment_part

_PARAGRAPHS = re.compile(r"\n\s*\n")
_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
_WHITESPACE = re.compile(r"\s+")
_WRAPPER = re.compile(r"^<div[^>]*>(.*)</div>$", re.DOTALL)
PREHEADER_CHARS = 120


@dataclass(frozen=True, slots=True)
class Words:
    """One language's words, as the announcement template sees them."""

    subject: str
    text: str
    html: Markup
    preheader: str


def text_to_html(text: str) -> str:
    """A plain-text announcement as HTML: paragraphs, line breaks, and its web addresses as links."""
    paragraphs = []
    for block in _PARAGRAPHS.split(text.strip()):
        escaped = html_lib.escape(block)
        linked = _URL.sub(lambda m: f'<a href="{m[0]}">{m[0]}</a>', escaped)
        paragraphs.append("<p>" + linked.replace("\n", "<br>\n") + "</p>")
    return "\n".join(paragraphs)


def styled(fragment: str, css: str) -> str:
    """`fragment` with the layout's CSS inlined, as if it sat in the layout's content box (the
    operator's HTML gets the same paragraphs, links and headings every mail has)."""
    try:
        inlined = css_inline.inline_fragment(f'<div class="content">{fragment}</div>', css)
    except css_inline.InlineError:
        return fragment  # HTML the inliner cannot read goes as it is
    match = _WRAPPER.match(inlined.strip())
    return match[1] if match else inlined


def prepare_words(text: AnnouncementText, css: str) -> Words:
    """One language's words made ready: HTML (the operator's, or made from the text) styled as the
    layout's content is."""
    source = text.html if text.html else text_to_html(text.text)
    preheader = _WHITESPACE.sub(" ", text.text).strip()
    if len(preheader) > PREHEADER_CHARS:
        preheader = preheader[:PREHEADER_CHARS - 1].rstrip() + "…"
    # The operator's own HTML, from `social announce --html`: trusted as the layout is.
    return Words(text.subject, text.text.strip(), Markup(styled(source, css)), preheader)  # noqa: S704


def _primary(tag: str) -> str:
    return tag.replace("_", "-").split("-", 1)[0].lower()


class AnnouncementContent:
    """Everything about an announcement that is the same for each of its recipients."""

    def __init__(self, data: AnnouncementCreatedData, attachment_bytes: Callable[[int], bytes], css: str) -> None:
        self.data = data
        self.default = prepare_words(data.default, css)
        self.variants: Mapping[str, Words] = {tag.lower(): prepare_words(text, css)
                                              for tag, text in data.variants.items()}
        self.parts: Sequence[bytes] = [self._part(info.index, attachment_bytes(info.index))
                                       for info in data.attachments]
        self.files: Sequence[Mapping[str, Any]] = [{"filename": a.filename, "size": a.size}
                                                    for a in data.attachments]

    def _part(self, index: int, data: bytes) -> bytes:
        info = next(a for a in self.data.attachments if a.index == index)
        if len(data) != info.size or hashlib.sha256(data).hexdigest() != info.sha256:
            raise BadAttachment(f"attachment {index} ({info.filename}) arrived as {len(data)} bytes that do not "
                                f"match its size ({info.size}) and SHA-256")
        return attachment_part(info.filename, info.content_type, data)

    def words_for(self, locale: str) -> Words:
        """The variant for a reader's locale: the same tag, else the same language, else the default."""
        tag = locale.replace("_", "-").lower()
        if tag in self.variants:
            return self.variants[tag]
        primary = _primary(tag)
        for variant, words in sorted(self.variants.items()):
            if _primary(variant) == primary:
                return words
        return self.default
