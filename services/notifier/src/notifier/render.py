"""Rendering mail from Jinja2 templates: one shared layout, one folder per kind, every language.

Templates come from TEMPLATES_DIR when set (operators restyle mail without a rebuild), else from
the copy shipped in this package (in a source checkout, the repository's own `templates/`):

    _layout/base.html, base.txt   the layout every kind shares: header, content, footer (why you
                                  got this, the unsubscribe link of a notification, the postal line)
    _layout/mail.css              its look, written once
    _locales/<locale>/LC_MESSAGES/mail.po   the translations (Babel catalogs)
    <kind>/subject.txt, body.txt, body.html  each kind's blocks (`title`, `preheader`, `content`, `why`)

Everything is compiled once, when the renderer is built, for each language: a kind's blocks are put
into the layout, each translatable sentence (`{% trans %}` blocks and `_("...")`, Jinja2's i18n
syntax, as Babel extracts it) is replaced by its translation from the language's catalog, the CSS
is inlined into the result (`css-inline`; the remaining Jinja syntax is kept out of the inliner's
way), and the whole is compiled. A mail then costs one render per part, with no catalog lookups;
the i18n extension stays installed for any translation form this does not recognise (an
operator's templates may use others: they are translated as each mail renders).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import css_inline
import jinja2
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from notifier.errors import RenderError
from notifier.kinds import Mail

TEMPLATE_NAMES = ("subject.txt", "body.txt", "body.html")
#: The languages mail is written in, as catalog names; any other locale gets the first.
LANGUAGES = ("en", "zh_CN")
_WHITESPACE = re.compile(r"\s+")
_BLOCK = re.compile(r"{%-?\s*block\s+(\w+)\s*-?%}(.*?){%-?\s*endblock\s*(?:\w+\s*)?-?%}", re.DOTALL)
#: Jinja syntax the CSS inliner must not see: whole translated blocks (their text is a catalog's
#: key, which inlining must not change), then single tags.
_JINJA = re.compile(r"{%-?\s*trans\b.*?{%-?\s*endtrans\s*-?%}|{{.*?}}|{%.*?%}|{#.*?#}", re.DOTALL)
_SLOT = re.compile(r"jinjaslot(\d{5})x")
#: A `{% trans %}` block Babel extracts and this module translates when compiling: variables
#: assigned in the tag, an optional `{% pluralize %}`.
_TRANS = re.compile(r"{%-?\s*trans((?:\s+\w+\s*=\s*[^%]+?)?)\s*-?%}(.*?){%-?\s*endtrans\s*-?%}", re.DOTALL)
_PLURALIZE = re.compile(r"{%-?\s*pluralize(?:\s+(\w+))?\s*-?%}")
_ASSIGNMENT = re.compile(r"(\w+)\s*=\s*")
_PLACEHOLDER = re.compile(r"{{\s*(\w+)\s*}}")
_GETTEXT_CALL = re.compile(r"""{{\s*_\(\s*"((?:[^"\\{}%]|\\.)*)"\s*\)\s*}}""")
#: Characters that would let a mail client turn a follower's text into a link: a zero-width
#: space after each keeps the text as it reads and its links dead.
_LINKISH = re.compile(r"([:./@])")


def default_templates_dir() -> Path:
    """The templates shipped in the package; in a source checkout, the repository's `templates/`."""
    shipped = Path(__file__).parent / "templates"
    if shipped.is_dir():
        return shipped
    return Path(__file__).resolve().parents[4] / "templates"


def language_of(locale: str) -> str:
    """The catalog for a recipient's BCP 47 locale: Simplified Chinese, else English."""
    tag = locale.replace("_", "-").lower()
    return "zh_CN" if tag in ("zh", "zh-cn", "zh-hans", "zh-hans-cn", "zh-sg") else "en"


class TemplatesMissing(Exception):
    """The templates directory lacks a template the notifier needs, or one does not compile."""


@dataclass(frozen=True, slots=True)
class RenderedMail:
    """The three rendered parts of one mail."""

    subject: str
    text: str
    html: str


def _plain(source: str) -> str:
    """A subject or text part: not HTML, so nothing in it is escaped."""
    return "{% autoescape false %}" + source + "{% endautoescape %}"


def quoted(text: str) -> str:
    """A user's own words, shown in a mail as a quotation whose links stay dead text."""
    return _LINKISH.sub("\\1\u200b", text)


@jinja2.pass_context
def _when(context: jinja2.runtime.Context, moment: datetime) -> str:
    """A time as the recipient reads it: in their language and time zone."""
    user = context.get("user")
    try:
        zone = ZoneInfo(getattr(user, "time_zone", None) or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    locale = context.get("locale", "en").replace("-", "_")
    return format_datetime(moment, "medium", tzinfo=zone, locale=locale)


@jinja2.pass_context
def _filesize(context: jinja2.runtime.Context, size: int) -> str:
    """A file's size as a reader expects it: "820 KB", "1.4 MB", digits in their locale's style."""
    locale = context.get("locale", "en").replace("-", "_")
    if size < 1000:
        return f"{format_decimal(size, locale=locale)} B"
    for unit, scale in (("KB", 1e3), ("MB", 1e6), ("GB", 1e9)):
        if size < scale * 1000 or unit == "GB":
            return f"{format_decimal(size / scale, format='#,##0.#', locale=locale)} {unit}"
    raise AssertionError("unreachable")


def load_translations(templates_dir: Path, language: str) -> NullTranslations:
    """The language's catalog, read from its .po file (no compiled file that could go stale)."""
    po = templates_dir / "_locales" / language / "LC_MESSAGES" / "mail.po"
    if language == "en" or not po.exists():
        return NullTranslations()
    with po.open("rb") as source:
        catalog = read_po(source, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def _assignments(tag: str) -> list[tuple[str, str]]:
    """`a=x.y, count=n - 2` as [("a", "x.y"), ("count", "n - 2")] (commas inside brackets kept)."""
    names = list(_ASSIGNMENT.finditer(tag))
    pairs = []
    for i, match in enumerate(names):
        end = names[i + 1].start() if i + 1 < len(names) else len(tag)
        pairs.append((match[1], tag[match.end():end].strip().rstrip(",").strip()))
    return pairs


def _msgid(body: str) -> str:
    """A block's text as Jinja's i18n extension (and Babel's extractor) names it in a catalog."""
    return _PLACEHOLDER.sub(r"%(\1)s", body.replace("%", "%%"))


def _as_template(translated: str, where: str) -> str:
    """A translation back as template text: `%(name)s` as `{{ name }}`."""
    if "{{" in translated or "{%" in translated or "{#" in translated:
        raise TemplatesMissing(f"{where}: a translation holds template syntax: {translated!r}")
    return re.sub(r"%\((\w+)\)s", r"{{ \1 }}", translated).replace("%%", "%")


def _plural_forms(translations: NullTranslations, singular: str, plural: str) -> tuple[list[str], str]:
    """Each plural form of a message in the catalog's language, and the name of the global that
    picks the form for a count."""
    chooser = getattr(translations, "plural", None)
    if chooser is None:  # no catalog (English): the msgids themselves, English's rule
        return [singular, plural], "plural_form"
    forms: dict[int, str] = {}
    for n in range(200):
        forms.setdefault(chooser(n), translations.ngettext(singular, plural, n))
    return [forms[i] for i in sorted(forms)], "plural_form"


def translate_source(source: str, translations: NullTranslations, where: str) -> str:
    """`source` with every `{% trans %}` block and `_("...")` call replaced by its translation."""

    def block(match: re.Match[str]) -> str:
        tag, body = match[1], match[2]
        assigned = _assignments(tag)
        pluralized = _PLURALIZE.search(body)
        if pluralized is None:
            text = _as_template(translations.gettext(_msgid(body)), where)
        else:
            counter = pluralized[1] or (assigned[0][0] if assigned else None)
            if counter is None:
                return match[0]  # a form this does not know: the extension translates it per mail
            forms, chooser = _plural_forms(translations, _msgid(body[:pluralized.start()]),
                                           _msgid(body[pluralized.end():]))
            if len(forms) == 1:
                text = _as_template(forms[0], where)
            else:
                branches = "".join(f"{{% {'if' if i == 0 else 'elif'} __form == {i} %}}{_as_template(f, where)}"
                                   for i, f in enumerate(forms))
                text = f"{{% set __form = {chooser}({counter}) %}}{branches}{{% endif %}}"
        if not assigned:
            return text
        values = ", ".join(f"{name}=({expression})" for name, expression in assigned)
        return f"{{% with {values} %}}{text}{{% endwith %}}"

    def call(match: re.Match[str]) -> str:
        return _as_template(translations.gettext(match[1].replace('\\"', '"')).replace("%", "%%"), where)

    return _GETTEXT_CALL.sub(call, _TRANS.sub(block, source))


def assemble(layout: str, kind: str) -> str:
    """The layout with the kind's blocks put in (a textual `{% extends %}`, so the CSS can be
    inlined into the whole page once, before it is compiled)."""
    blocks = {name: body for name, body in _BLOCK.findall(kind)}
    return _BLOCK.sub(lambda m: blocks.get(m[1], ""), layout)


def inline_css(html: str, css: str, name: str) -> str:
    """`html` with `css` inlined into its elements (media queries kept in a style tag), Jinja
    syntax untouched: each translated block and each tag is hidden behind a placeholder while the
    inliner parses the page, and must come back in the same order."""
    hidden: list[str] = []

    def hide(match: re.Match[str]) -> str:
        hidden.append(match[0])
        return f"jinjaslot{len(hidden) - 1:05d}x"

    protected = _JINJA.sub(hide, html)
    inliner = css_inline.CSSInliner(keep_at_rules=True, extra_css=css, load_remote_stylesheets=False)
    try:
        inlined = inliner.inline(protected)
    except css_inline.InlineError as exc:
        raise TemplatesMissing(f"{name}: cannot inline the CSS: {exc}") from None
    order = [int(n) for n in _SLOT.findall(inlined)]
    if order != list(range(len(hidden))):
        raise TemplatesMissing(f"{name}: a Jinja tag sits where HTML allows no text (inside a table's structure?)")
    return _SLOT.sub(lambda m: hidden[int(m[1])], inlined)


class _MailEnvironment(jinja2.Environment):
    """Jinja2's environment with each template's globals a flat dict rather than a ChainMap over the
    environment's: every global is set before the templates compile, and a render's context is then
    a C-speed dict copy instead of a walk through the chain (a third of a mail's rendering time)."""

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return {**self.globals, **(d or {})}


class Renderer:
    """Renders the mails of the given kinds in every language; everything compiled at construction."""

    def __init__(self, kind_names: Iterable[str], templates_dir: Path | None = None, *,
                 postal_address: str = "", inline: bool = True) -> None:
        """`inline=False` leaves the CSS out of the HTML (to compare with inlining mail by mail)."""
        self.templates_dir = templates_dir or default_templates_dir()
        self.postal_address = postal_address
        sources = self._sources(kind_names)
        css = self._read("_layout/mail.css")
        #: The layout's CSS, for HTML that comes with a mail rather than a template (announcements).
        self.css = css
        self._templates: dict[tuple[str, str], tuple[jinja2.Template, ...]] = {}
        for language in LANGUAGES:
            translations = load_translations(self.templates_dir, language)
            env = self._environment(translations)
            for kind, (subject, text, html) in sources.items():
                name = f"{kind}/body.html"
                subject, text, html = (translate_source(part, translations, f"{kind} ({language})")
                                       for part in (subject, text, html))
                try:
                    self._templates[(language, kind)] = (
                        env.from_string(subject), env.from_string(text),
                        env.from_string(inline_css(html, css, name) if inline else html))
                except jinja2.TemplateSyntaxError as exc:
                    raise TemplatesMissing(f"{kind}: line {exc.lineno}: {exc.message}") from None

    def _environment(self, translations: NullTranslations) -> jinja2.Environment:
        env = _MailEnvironment(
            extensions=["jinja2.ext.i18n"],
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            auto_reload=False,
            keep_trailing_newline=True,
        )
        env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
        env.filters["quoted"] = quoted
        env.filters["filesize"] = _filesize
        env.globals["when"] = _when
        chooser = getattr(translations, "plural", None)
        env.globals["plural_form"] = chooser if chooser is not None else (lambda n: int(n != 1))
        return env

    def _read(self, name: str) -> str:
        path = self.templates_dir / name
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise TemplatesMissing(f"{self.templates_dir} has no {name}") from None

    def _sources(self, kind_names: Iterable[str]) -> dict[str, tuple[str, str, str]]:
        """Each kind's subject, and its text and HTML put into the layout."""
        layout_text, layout_html = self._read("_layout/base.txt"), self._read("_layout/base.html")
        return {kind: (_plain(self._read(f"{kind}/subject.txt")),
                       _plain(assemble(layout_text, self._read(f"{kind}/body.txt"))),
                       assemble(layout_html, self._read(f"{kind}/body.html")))
                for kind in kind_names}

    def render(self, mail: Mail) -> RenderedMail:
        """The subject, text and HTML of `mail`, in its recipient's language."""
        language = language_of(mail.recipient.locale)
        subject, text, html = self._templates[(language, mail.kind)]
        context: Mapping[str, Any] = {**mail.context, "unsubscribe_url": mail.unsubscribe_url,
                                      "locale": language.replace("_", "-"), "postal_address": self.postal_address}
        try:
            parts = [template.render(context) for template in (subject, text, html)]
        except jinja2.TemplateError as exc:
            raise RenderError(f"{mail.kind}: {type(exc).__name__}: {exc}") from None
        # A subject is one line whatever the template says: no header can be smuggled in.
        return RenderedMail(_WHITESPACE.sub(" ", parts[0]).strip(), parts[1], parts[2])
