"""The pages in the reader's language (Flask-Babel): English and Simplified Chinese.

The language is the user's own setting when they are logged in and it is one the pages are
written in; else the first of the browser's `Accept-Language` that is; else English. The page's
`lang` attribute names the language served (:func:`html_lang`), never one only asked for. The
JSON API stays English: its words are for programmers, its codes for programs.

The catalogs are the `.po` files under `translations/` (`make translations` extracts and merges
them), compiled in memory when the app is built: there is no compiled file that could go stale.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask, has_request_context, request
from flask_babel import Babel, format_date, format_time, format_timedelta, get_locale, to_user_timezone
from flask_login import current_user
from markupsafe import Markup, escape

from social.api.errors import is_api_request
from social.catalogs import CATALOGS_DIR, catalog_name, compile_catalogs
from social.dbtypes import utcnow
from social.translate import _

#: The languages the pages are written in: Babel's locale id, and the BCP 47 tag of `lang`.
SERVED = {"en": "en", "zh_CN": "zh-CN"}
DEFAULT = "en"
#: A user's `locale` (BCP 47, as stored) and the page language it gets, for those we serve.
_FROM_SETTING = {"en": "en", "zh-CN": "zh_CN"}


def init_i18n(app: Flask, babel: Babel) -> None:
    """Compile the catalogs and let Flask-Babel choose each request's language and time zone."""
    app.extensions["social_catalogs"] = compile_catalogs(CATALOGS_DIR)
    babel.init_app(app, default_locale=DEFAULT, locale_selector=select_locale, timezone_selector=select_time_zone)
    app.jinja_env.globals.update(html_lang=html_lang, when=when)
    app.jinja_env.policies["ext.i18n.trimmed"] = True  # {% trans %} blocks: whitespace folded as Babel extracts it


def select_locale() -> str:
    if not has_request_context() or is_api_request():
        return DEFAULT
    if current_user.is_authenticated and current_user.locale in _FROM_SETTING:
        return _FROM_SETTING[current_user.locale]
    for tag, _quality in request.accept_languages:
        served = served_language(tag)
        if served is not None:
            return served
    return DEFAULT


def served_language(tag: str) -> str | None:
    """The page language for a browser's language tag, if we write one it reads: `zh`, `zh-CN`,
    `zh-Hans`, `zh-SG` are Simplified Chinese; `zh-TW` and `zh-HK` (Traditional) are not."""
    parts = tag.replace("_", "-").lower().split("-")
    if parts[0] == "en":
        return "en"
    if parts[0] == "zh" and (len(parts) == 1 or parts[1] in ("cn", "sg", "hans")):
        return "zh_CN"
    return None


def select_time_zone() -> str | None:
    if not has_request_context() or not current_user.is_authenticated:
        return None
    zone: str = current_user.time_zone
    return zone


def html_lang() -> str:
    """The `lang` of the page: the language it is served in."""
    return SERVED.get(catalog_name(get_locale()), DEFAULT)


def when(moment: datetime, *, now: datetime | None = None) -> Markup:
    """`moment` as a `<time>`: "3 minutes ago" in the page's language, the exact time in the
    viewer's time zone on hover. static/social.js puts an anonymous reader's own zone in the
    title, and keeps the relative words current on a page left open."""
    ago = (now or utcnow()) - moment
    relative = format_timedelta(-ago, granularity="minute", add_direction=True) \
        if ago.total_seconds() >= 60 else _("just now")
    # To the minute: no one is told a "last seen" more exactly (and a post's seconds help nobody).
    zone = to_user_timezone(moment).strftime("%Z")
    exact = f'{format_date(moment, "medium")} {format_time(moment, "short")} {zone}'
    stamp = moment.strftime("%Y-%m-%dT%H:%MZ")
    element = Markup('<time datetime="{}" title="{}" data-relative>{}</time>')
    return element.format(stamp, exact, escape(relative))

