"""Attachments: files every recipient gets, under their own names, with the type their names say."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from microblog_contracts.announcements import MAX_ATTACHMENTS_BYTES

from social.announcements.errors import DraftRefused
from social.announcements.files import file_size, read_bytes
from social.announcements.texts import CONTROL_CHARACTERS

FILENAME_MAX_CHARS = 120
MAX_ATTACHMENTS = 20

#: What a compressed file is sent as (mimetypes names the compression apart from the type).
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


def read_attachments(paths: Sequence[str]) -> tuple[AttachmentFile, ...]:
    """The files `--attach` names, each under its own name (the last part of its path)."""
    if len(paths) > MAX_ATTACHMENTS:
        raise DraftRefused(f"--attach: {len(paths)} files; at most {MAX_ATTACHMENTS}")
    names = [_filename(path) for path in paths]
    # The sizes first, so that a file far too large is refused without being read.
    _check_total(sum(file_size(path, "--attach") for path in paths))
    files = tuple(AttachmentFile(name, content_type(name), read_bytes(path, "--attach"))
                  for name, path in zip(names, paths, strict=True))
    _check_total(sum(f.size for f in files))  # a file that grew while we looked
    return files


def content_type(filename: str) -> str:
    """What a mail client is told a file is, from its name; `application/octet-stream` if unknown."""
    guessed, encoding = mimetypes.guess_type(filename, strict=False)
    if encoding is not None:
        guessed = _COMPRESSED.get(encoding)
    if guessed is None or len(guessed) > 100 or not _CONTENT_TYPE.match(guessed):
        return "application/octet-stream"
    return guessed


def _filename(path: str) -> str:
    name = os.path.basename(path.rstrip("/"))
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise DraftRefused(f"--attach {path!r}: the file name is not UTF-8; rename the file") from None
    if not name or CONTROL_CHARACTERS.search(name) or "\\" in name:
        raise DraftRefused(f"--attach {path!r}: not a file name a mail can carry (control characters or '\\')")
    if len(name) > FILENAME_MAX_CHARS:
        raise DraftRefused(f"--attach {path}: the file name is {len(name)} characters; at most {FILENAME_MAX_CHARS}")
    return name


def _check_total(total: int) -> None:
    if total > MAX_ATTACHMENTS_BYTES:
        raise DraftRefused(f"--attach: the attachments are {_mib(total)} ({total:,} bytes) in all; "
                           f"at most {_mib(MAX_ATTACHMENTS_BYTES)} ({MAX_ATTACHMENTS_BYTES:,} bytes)")


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"
