"""Rendering the follower e-mail from Jinja2 templates.

Templates come from TEMPLATES_DIR when set (operators restyle mail without a rebuild), else
from the copy shipped in this package. HTML is autoescaped (nickname and about_me are user
input); text is not. A variable a template names but the event lacks is an error, not blank.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
from microblog_contracts import UserFollowed

from notifier.errors import RenderError

PACKAGED_TEMPLATES = Path(__file__).parent / "templates"
FOLLOWER_TEMPLATES = ("follower_email_subject.txt", "follower_email.txt", "follower_email.html")
_WHITESPACE = re.compile(r"\s+")


class TemplatesMissing(Exception):
    """The templates directory lacks a template the notifier needs."""


@dataclass(frozen=True, slots=True)
class RenderedMail:
    """The three rendered parts of one mail."""

    subject: str
    text: str
    html: str


class MailRenderer:
    """Renders the follower e-mail; templates are compiled once, at construction."""

    def __init__(self, templates_dir: Path | None = None) -> None:
        self.templates_dir = templates_dir or PACKAGED_TEMPLATES
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self.templates_dir),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html", "htm"), default=False),
            undefined=jinja2.StrictUndefined,
            auto_reload=False,
            keep_trailing_newline=True,
        )
        try:
            self._subject, self._text, self._html = (env.get_template(n) for n in FOLLOWER_TEMPLATES)
        except jinja2.TemplateNotFound as exc:
            raise TemplatesMissing(f"{self.templates_dir} has no {exc.name}") from None
        except jinja2.TemplateSyntaxError as exc:
            raise TemplatesMissing(f"{exc.filename}:{exc.lineno}: {exc.message}") from None

    def follower_email(self, event: UserFollowed) -> RenderedMail:
        """The mail telling `event.data.followed` that `event.data.follower` follows them."""
        context = {"user": event.data.followed, "follower": event.data.follower, "event": event}
        try:
            subject = self._subject.render(context)
            text = self._text.render(context)
            html = self._html.render(context)
        except jinja2.TemplateError as exc:
            raise RenderError(f"{type(exc).__name__}: {exc}") from None
        # A subject is one line whatever the template says: no header can be smuggled in.
        return RenderedMail(_WHITESPACE.sub(" ", subject).strip(), text, html)
