"""What an operator asks to announce, read from their files and checked before anything is written.

Every problem is a :class:`DraftRefused` whose message is one line naming the option and file it
is about. A language variant is a text file that starts with its subject:

    Subject: 新功能上线
    (a blank line)
    The text, as many lines as it takes.

given as `--locale-variant zh-CN=FILE`; a second `--locale-variant zh-CN=FILE.html` (a name ending
in `.html` or `.htm`) is that language's HTML, the whole file.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from microblog_contracts import AnnouncementText
from microblog_contracts.announcements import MAX_ATTACHMENTS_BYTES, MAX_TEXT_BYTES
from pydantic import ValidationError

from social.accounts import LOCALES
from social.announcements.errors import DraftRefused

#: The contract's bounds (see :mod:`microblog_contracts.announcements`), named for our messages.
SUBJECT_MAX_CHARS = 200
TEXT_MAX_CHARS = 16_000
HTML_MAX_CHARS = 24_000
FILENAME_MAX_CHARS = 120
MAX_ATTACHMENTS = 20
HTML_SUFFIXES = (".html", ".htm")

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SUBJECT_LINE = re.compile(r"^subject:[ \t]*(?P<subject>.*)$", re.IGNORECASE)
#: What a compressed file is sent as (mimetypes names the encoding apart from the type).
_COMPRESSED = {"gzip": "application/gzip", "bzip2": "application/x-bzip2", "xz": "application/x-xz",
               "br": "application/x-brotli", "compress": "application/x-compress"}
_CONTENT_TYPE = re.compile(r"^[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*$")


@dataclass(frozen=True)
class AttachmentFile:
    """One attachment as every recipient gets it."""

    filename: str
    content_type: str
    content: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.content)

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


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
    """Read and check everything `social announce` was given; raises :class:`DraftRefused`."""
    default = _text(
        _subject(subject, "--subject"),
        _read_text(text_file, "--text"),
        _read_text(html_file, "--html") if html_file else None,
        where=f"--text {text_file}",
    )
    variants = _variants(locale_variants)
    texts = [default, *variants.values()]
    size = sum(len(t.subject.encode()) + len(t.text.encode()) + len((t.html or "").encode()) for t in texts)
    if size > MAX_TEXT_BYTES:
        raise DraftRefused(f"the subjects, texts and HTML of all languages are {size:,} bytes together; "
                           f"at most {MAX_TEXT_BYTES:,} bytes ({MAX_TEXT_BYTES // 1024} KiB)")
    return Draft(default=default, variants=variants, attachments=_attachments(attach))


def parse_variant(content: str, where: str) -> tuple[str, str]:
    """The subject and text of a variant file: `Subject: ...`, a blank line, then the text."""
    first, _, rest = content.partition("\n")
    match = _SUBJECT_LINE.match(first.rstrip("\r"))
    if match is None:
        raise DraftRefused(f"{where}: the first line must be 'Subject: ...', then a blank line, then the text")
    blank, _, text = rest.partition("\n")
    if blank.strip():
        raise DraftRefused(f"{where}: the line after the subject must be blank (the text starts after it)")
    return match["subject"], text


def canonical_locale(name: str) -> str:
    """The locale users can have that `name` names (`zh-cn` is `zh-CN`); DraftRefused if none."""
    for locale in LOCALES:
        if locale.lower() == name.strip().lower():
            return locale
    raise DraftRefused(f"--locale-variant: unknown locale {name!r}; users can have {', '.join(LOCALES)}")


def _variants(specs: Sequence[str]) -> dict[str, AnnouncementText]:
    texts: dict[str, tuple[str, str, str]] = {}  # locale: (spec, subject, text)
    html: dict[str, str] = {}
    for spec in specs:
        name, equals, path = spec.partition("=")
        if not equals or not name.strip() or not path:
            raise DraftRefused(f"--locale-variant {spec!r}: give LOCALE=FILE, e.g. zh-CN=announcement.zh.txt")
        locale = canonical_locale(name)
        if path.lower().endswith(HTML_SUFFIXES):
            if locale in html:
                raise DraftRefused(f"--locale-variant {spec}: {locale} has an HTML file already")
            html[locale] = _read_text(path, f"--locale-variant {locale}")
        else:
            if locale in texts:
                raise DraftRefused(f"--locale-variant {spec}: {locale} has a text file already")
            where = f"--locale-variant {spec}"
            subject, text = parse_variant(_read_text(path, f"--locale-variant {locale}"), where)
            texts[locale] = (where, _subject(subject, where), text)
    if without_text := sorted(html.keys() - texts.keys()):
        locale = without_text[0]
        raise DraftRefused(f"--locale-variant {locale}: an HTML file needs a text file with its subject too "
                           f"(--locale-variant {locale}=FILE)")
    return {locale: _text(subject, text, html.get(locale), where=where)
            for locale, (where, subject, text) in texts.items()}


def _subject(subject: str, where: str) -> str:
    subject = subject.strip()
    if "\n" in subject or "\r" in subject:
        raise DraftRefused(f"{where}: the subject must be one line (it becomes a mail header)")
    if _CONTROL.search(subject):
        raise DraftRefused(f"{where}: the subject must not hold control characters")
    if not subject:
        raise DraftRefused(f"{where}: the subject is empty")
    if len(subject) > SUBJECT_MAX_CHARS:
        raise DraftRefused(f"{where}: the subject is {len(subject)} characters; at most {SUBJECT_MAX_CHARS}")
    return subject


def _text(subject: str, text: str, html: str | None, *, where: str) -> AnnouncementText:
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


def _attachments(paths: Sequence[str]) -> tuple[AttachmentFile, ...]:
    if len(paths) > MAX_ATTACHMENTS:
        raise DraftRefused(f"--attach: {len(paths)} files; at most {MAX_ATTACHMENTS}")
    names = [_filename(path) for path in paths]
    # The sizes first, so that a file far too large is refused without being read.
    total = sum(_stat_size(path) for path in paths)
    _check_total(total)
    files = tuple(AttachmentFile(name, content_type(name), _read(path, "--attach"))
                  for name, path in zip(names, paths, strict=True))
    _check_total(sum(f.size for f in files))  # a file that grew while we looked
    return files


def _check_total(total: int) -> None:
    if total > MAX_ATTACHMENTS_BYTES:
        raise DraftRefused(f"--attach: the attachments are {_mib(total)} ({total:,} bytes) in all; "
                           f"at most {_mib(MAX_ATTACHMENTS_BYTES)} ({MAX_ATTACHMENTS_BYTES:,} bytes)")


def _filename(path: str) -> str:
    name = os.path.basename(path.rstrip("/"))
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise DraftRefused(f"--attach {path!r}: the file name is not UTF-8; rename the file") from None
    if not name or _CONTROL.search(name) or "\\" in name:
        raise DraftRefused(f"--attach {path!r}: not a file name a mail can carry (control characters or '\\')")
    if len(name) > FILENAME_MAX_CHARS:
        raise DraftRefused(f"--attach {path}: the file name is {len(name)} characters; at most {FILENAME_MAX_CHARS}")
    return name


def content_type(filename: str) -> str:
    """What a mail client is told a file is, from its name; `application/octet-stream` if unknown."""
    guessed, encoding = mimetypes.guess_type(filename, strict=False)
    if encoding is not None:
        guessed = _COMPRESSED.get(encoding)
    if guessed is None or len(guessed) > 100 or not _CONTENT_TYPE.match(guessed):
        return "application/octet-stream"
    return guessed


def _read_text(path: str, option: str) -> str:
    content = _read(path, option)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DraftRefused(f"{option} {path}: not UTF-8 text (byte {exc.start:,} is not UTF-8)") from None
    return text.replace("\r\n", "\n")


def _stat_size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError as exc:
        raise DraftRefused(_unreadable("--attach", path, exc)) from None


def _read(path: str, option: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as exc:
        raise DraftRefused(_unreadable(option, path, exc)) from None


def _unreadable(option: str, path: str, exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"{option} {path}: no such file"
    if isinstance(exc, IsADirectoryError):
        return f"{option} {path}: a directory, not a file"
    if isinstance(exc, PermissionError):
        return f"{option} {path}: cannot read it (permission denied)"
    return f"{option} {path}: cannot read it ({exc.strerror or exc})"


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"
