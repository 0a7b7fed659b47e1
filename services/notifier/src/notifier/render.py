"""Rendering mail from Jinja2 templates, one folder per mail kind.

Templates come from TEMPLATES_DIR when set (operators restyle mail without a rebuild), else from
the copy shipped in this package (in a source checkout, the repository's own `templates/`). Each
kind has `<kind>/subject.txt`, `<kind>/body.txt` and `<kind>/body.html`, compiled once when the
renderer is built. HTML is autoescaped (nicknames and about-me texts are user input); text is
not. A variable a template names but the mail lacks is an error, not a blank.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import jinja2

from notifier.errors import RenderError
from notifier.kinds import Mail

TEMPLATE_NAMES = ("subject.txt", "body.txt", "body.html")
_WHITESPACE = re.compile(r"\s+")


def default_templates_dir() -> Path:
    """The templates shipped in the package; in a source checkout, the repository's `templates/`."""
    shipped = Path(__file__).parent / "templates"
    if shipped.is_dir():
        return shipped
    return Path(__file__).resolve().parents[4] / "templates"


class TemplatesMissing(Exception):
    """The templates directory lacks a template the notifier needs, or one does not compile."""


@dataclass(frozen=True, slots=True)
class RenderedMail:
    """The three rendered parts of one mail."""

    subject: str
    text: str
    html: str


class Renderer:
    """Renders the mails of the given kinds; every template is compiled at construction."""

    def __init__(self, kind_names: Iterable[str], templates_dir: Path | None = None) -> None:
        self.templates_dir = templates_dir or default_templates_dir()
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self.templates_dir),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html", "htm"), default=False),
            undefined=jinja2.StrictUndefined,
            auto_reload=False,
            keep_trailing_newline=True,
        )
        self._templates: dict[str, tuple[jinja2.Template, ...]] = {}
        for kind in kind_names:
            try:
                self._templates[kind] = tuple(env.get_template(f"{kind}/{name}") for name in TEMPLATE_NAMES)
            except jinja2.TemplateNotFound as exc:
                raise TemplatesMissing(f"{self.templates_dir} has no {exc.name}") from None
            except jinja2.TemplateSyntaxError as exc:
                raise TemplatesMissing(f"{exc.filename}:{exc.lineno}: {exc.message}") from None

    def render(self, mail: Mail) -> RenderedMail:
        """The subject, text and HTML of `mail`, from its kind's templates."""
        subject, text, html = self._templates[mail.kind]
        context = {**mail.context, "unsubscribe_url": mail.unsubscribe_url}
        try:
            parts = [template.render(context) for template in (subject, text, html)]
        except jinja2.TemplateError as exc:
            raise RenderError(f"{mail.kind}: {type(exc).__name__}: {exc}") from None
        # A subject is one line whatever the template says: no header can be smuggled in.
        return RenderedMail(_WHITESPACE.sub(" ", parts[0]).strip(), parts[1], parts[2])
