"""Language variants: `--locale-variant LOCALE=FILE`, the words readers of that locale get.

FILE starts with its subject, then a blank line, then the text (UTF-8):

    Subject: 新功能上线

    大家好……

The option given again with a file ending in `.html` or `.htm` is that language's HTML.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from microblog_contracts import AnnouncementText

from social.accounts import LOCALES
from social.announcements.errors import DraftRefused
from social.announcements.files import read_text
from social.announcements.texts import announcement_text, checked_subject

HTML_SUFFIXES = (".html", ".htm")

_SUBJECT_LINE = re.compile(r"^subject:[ \t]*(?P<subject>.*)$", re.IGNORECASE)


def read_variants(specs: Sequence[str]) -> dict[str, AnnouncementText]:
    """Every variant the `--locale-variant` options give, by locale."""
    texts: dict[str, tuple[str, str, str]] = {}  # locale: (where, subject, text)
    html: dict[str, str] = {}
    for spec in specs:
        name, equals, path = spec.partition("=")
        if not equals or not name.strip() or not path:
            raise DraftRefused(f"--locale-variant {spec!r}: give LOCALE=FILE, e.g. zh-CN=announcement.zh.txt")
        locale = canonical_locale(name)
        if path.lower().endswith(HTML_SUFFIXES):
            if locale in html:
                raise DraftRefused(f"--locale-variant {spec}: {locale} has an HTML file already")
            html[locale] = read_text(path, f"--locale-variant {locale}")
        else:
            if locale in texts:
                raise DraftRefused(f"--locale-variant {spec}: {locale} has a text file already")
            where = f"--locale-variant {spec}"
            subject, text = parse_variant(read_text(path, f"--locale-variant {locale}"), where)
            texts[locale] = (where, checked_subject(subject, where), text)
    if without_text := sorted(html.keys() - texts.keys()):
        locale = without_text[0]
        raise DraftRefused(f"--locale-variant {locale}: an HTML file needs a text file with its subject too "
                           f"(--locale-variant {locale}=FILE)")
    return {locale: announcement_text(subject, text, html.get(locale), where=where)
            for locale, (where, subject, text) in texts.items()}


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
