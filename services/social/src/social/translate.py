"""The three ways code marks words for the reader's language (Flask-Babel's, typed): `_` now,
`_l` when read (labels made at import), `ngettext` for a count. `make translations`
extracts what they mark."""

from __future__ import annotations

from typing import Any

import flask_babel


def _(text: str, **values: object) -> str:
    return str(flask_babel.gettext(text, **values))


def _l(text: str, **values: object) -> Any:
    """A string translated each time it is used (a LazyString)."""
    return flask_babel.lazy_gettext(text, **values)


def ngettext(singular: str, plural: str, num: int, **values: object) -> str:
    return str(flask_babel.ngettext(singular, plural, num, **values))
