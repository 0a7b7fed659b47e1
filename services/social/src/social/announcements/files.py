"""Reading the files an operator names, each problem a :class:`DraftRefused` naming option and file."""

from __future__ import annotations

import os

from social.announcements.errors import DraftRefused


def read_bytes(path: str, option: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as exc:
        raise DraftRefused(_unreadable(option, path, exc)) from None


def read_text(path: str, option: str) -> str:
    """A UTF-8 file's text (a byte order mark dropped), its line ends made `\\n`."""
    content = read_bytes(path, option)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DraftRefused(f"{option} {path}: not UTF-8 text (byte {exc.start:,} is not UTF-8)") from None
    return text.replace("\r\n", "\n")


def file_size(path: str, option: str) -> int:
    """The size of a file, without reading it."""
    try:
        return os.stat(path).st_size
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
