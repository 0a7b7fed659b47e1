"""The compiled message catalogs of the pages, and the Flask-Babel domain that reads them.

The catalogs are the `.po` files under `translations/`, compiled in memory when an app is built
(:func:`compile_catalogs`): no compiled file is kept, so none can go stale.
"""

from __future__ import annotations

import io
from functools import cached_property
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import current_app
from flask_babel import Babel, Domain, get_locale

CATALOGS_DIR = Path(__file__).parent / "translations"
DOMAIN = "messages"


class CompiledDomain(Domain):  # type: ignore[misc]
    """Flask-Babel's message domain, answered from the catalogs the app compiled at start."""

    def get_translations(self) -> NullTranslations:
        catalogs: dict[str, Translations] = current_app.extensions["social_catalogs"]
        return catalogs.get(catalog_name(get_locale()), NullTranslations())


class CatalogBabel(Babel):  # type: ignore[misc]
    @cached_property
    def domain_instance(self) -> Domain:
        return CompiledDomain()


def catalog_name(locale: Locale | None) -> str:
    """The folder of a locale's catalog: `zh_CN` for Babel's `zh_Hans_CN`, `en` for `en`."""
    if locale is None:
        return ""
    return "_".join(part for part in (locale.language, locale.territory) if part)


def compile_catalogs(directory: Path) -> dict[str, Translations]:
    """Each language's catalog, read from its .po file and compiled in memory."""
    catalogs = {}
    for po in sorted(directory.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        language = po.parent.parent.name
        with po.open("rb") as source:
            catalog = read_po(source, locale=language, domain=DOMAIN)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        catalogs[language] = Translations(compiled, domain=DOMAIN)
    return catalogs
