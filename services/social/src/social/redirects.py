"""Where a `next` parameter may send the browser: only back into this site."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next_path(target: str | None) -> str | None:
    """`target` if it is a relative path on this site, else None.

    Refuses absolute URLs, scheme-relative `//evil.example`, backslash tricks that browsers
    read as `//` (`/\\evil.example`) and control characters that browsers strip.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
