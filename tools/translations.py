"""`make translations`: bring the mail catalogs up to date with the templates.

Extracts every translatable string of `templates/` into `templates/_locales/mail.pot` and merges it
into each language's `mail.po`, keeping what is translated; new strings arrive untranslated (a test
then fails until someone translates them). The notifier reads the .po files themselves: there is
no compiled catalog that could go stale.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "templates" / "_locales"
PYBABEL = Path(sys.executable).parent / "pybabel"


def main() -> int:
    subprocess.run([str(PYBABEL), "-q", "extract", "-F", str(LOCALES / "babel.cfg"), "-o", str(LOCALES / "mail.pot"),
                    "--no-location", "--omit-header", "--ignore-dirs", ".* _locales", "-k", "_",
                    str(ROOT / "templates")], check=True)
    for po in sorted(LOCALES.glob("*/LC_MESSAGES/mail.po")):
        subprocess.run([str(PYBABEL), "-q", "update", "-i", str(LOCALES / "mail.pot"), "-o", str(po),
                        "-l", po.parent.parent.name, "--no-fuzzy-matching", "--omit-header", "--ignore-obsolete"],
                       check=True)
        print(f"updated {po.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
