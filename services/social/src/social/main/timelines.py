"""Reading a timeline's page from the query string: `?before=` (older) or `?after=` (newer)."""

from __future__ import annotations

from flask import abort, request

from social.paging import BadCursor, Cursor

PER_PAGE = 20


def page_cursors() -> tuple[Cursor | None, Cursor | None]:
    """(`before`, `after`) from the query string; a cursor we did not make is a 404 page."""
    try:
        before, after = (Cursor.decode(raw) if (raw := request.args.get(name)) else None
                         for name in ("before", "after"))
    except BadCursor:
        abort(404)
    return before, after
