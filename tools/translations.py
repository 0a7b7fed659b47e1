"""`make translations`: bring every catalog up to date with what it translates.

- The mail: every translatable string of `templates/` into `templates/_locales/mail.pot`, merged
  into each language's `mail.po`.
- The web pages: every string social's Python code (`_`, `_l`, `ngettext`) and templates
  (`{% trans %}`, `_()`) mark, into `services/social/src/social/translations/messages.pot`,
  merged into each language's `messages.po`, then each compiled once to check it.

What is translated is kept; new strings arrive untranslated (a test then fails until someone
translates them). Neither service runs on a compiled file: the notifier and social read the .po
files themselves and compile them in memory at start, so nothing compiled can go stale.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "templates" / "_locales"
PAGES = ROOT / "services" / "social" / "src" / "social"
PAGE_CATALOGS = PAGES / "translations"
PYBABEL = Path(sys.executable).parent / "pybabel"


def main() -> int:
    mail()
    pages()
    return 0


def mail() -> None:
    subprocess.run([str(PYBABEL), "-q", "extract", "-F", str(LOCALES / "babel.cfg"), "-o", str(LOCALES / "mail.pot"),
                    "--no-location", "--omit-header", "--ignore-dirs", ".* _locales", "-k", "_",
                    str(ROOT / "templates")], check=True)
    _update(LOCALES / "mail.pot", sorted(LOCALES.glob("*/LC_MESSAGES/mail.po")))


def pages() -> None:
    pot = PAGE_CATALOGS / "messages.pot"
    subprocess.run([str(PYBABEL), "-q", "extract", "-F", str(PAGE_CATALOGS / "babel.cfg"), "-o", str(pot),
                    "-k", "_l", "--no-location", "--omit-header", "--sort-output",
                    "--ignore-dirs", ".* migrations", str(PAGES)], check=True)
    catalogs = sorted(PAGE_CATALOGS.glob("*/LC_MESSAGES/messages.po"))
    _update(pot, catalogs)
    with tempfile.TemporaryDirectory() as scratch:
        for po in catalogs:  # a catalog that does not compile fails here, not in a browser
            subprocess.run([str(PYBABEL), "compile", "--use-fuzzy", "--statistics", "-i", str(po),
                            "-o", str(Path(scratch) / "messages.mo"), "-l", po.parent.parent.name], check=True)


def _update(pot: Path, catalogs: list[Path]) -> None:
    for po in catalogs:
        subprocess.run([str(PYBABEL), "-q", "update", "-i", str(pot), "-o", str(po), "-l", po.parent.parent.name,
                        "--no-fuzzy-matching", "--omit-header", "--ignore-obsolete"], check=True)
        print(f"updated {po.relative_to(ROOT)}")


if __name__ == "__main__":
    raise SystemExit(main())
