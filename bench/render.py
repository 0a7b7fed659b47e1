"""11. Render cost per mail: the new layout (one for every kind, its CSS inlined when the templates
compile, in the reader's language) against the plain English templates it replaced (kept in
bench/anchors/plain_templates/), and against inlining the CSS into each mail as it is sent (what a
send-time inliner such as Zulip's costs). In this process: render and build the MIME message, no
SMTP, the best of a few rounds of many mails each (the machine is shared and noisy)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import css_inline
import jinja2
from microblog_contracts import Preference
from notifier.kinds import discover
from notifier.mime import Sender, build_alternative, message_id_for
from notifier.outgoing import Composer, Senders
from notifier.render import Renderer

from bench.config import Config
from bench.events import user_followed
from bench.figures import Figure, Section, Target

PLAIN = Path(__file__).resolve().parent / "anchors" / "plain_templates" / "follower_email"
ROUNDS = 7
SENDER = Sender.parse("Microblog <no-reply@example.com>")


def _per_mail_us(contestants: dict[str, Callable[[int], bytes]], mails: int) -> dict[str, float]:
    """Microseconds per mail of each contestant, the best of ROUNDS rounds; the rounds take turns
    (a burst of load on this shared machine falls on all of them, not on one)."""
    best = dict.fromkeys(contestants, float("inf"))
    for _ in range(ROUNDS):
        for name, render_one in contestants.items():
            started = time.perf_counter()
            for n in range(mails):
                render_one(n)
            best[name] = min(best[name], (time.perf_counter() - started) / mails)
    return {name: seconds * 1e6 for name, seconds in best.items()}


def _plain() -> Callable[[Any], tuple[str, str, str]]:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    subject, text, html = (env.from_string((PLAIN / name).read_text()) for name in ("subject.txt", "body.txt",
                                                                                  "body.html"))

    def render(context: Any) -> tuple[str, str, str]:
        return subject.render(context), text.render(context), html.render(context)
    return render


def one_run(config: Config) -> dict[str, float]:
    kinds = discover()
    follower_kind = kinds.for_event("user.followed")
    assert follower_kind is not None
    renderer = Renderer(kinds.names, postal_address="Microblog · 1 Example Street · Springfield")
    uninlined = Renderer(kinds.names, inline=False)
    composer = Composer(Senders(SENDER, SENDER, SENDER))
    now = datetime.now(UTC)
    mails = {}
    for language in ("en", "zh-CN"):
        event = user_followed(1)
        profile = event.data.followed.model_copy(update={"locale": language})
        mails[language] = follower_kind.mail_for(event.model_copy(update={"data": event.data.model_copy(
            update={"followed": profile})}))
    plain = _plain()
    count = config.render_mails

    def old(n: int) -> bytes:
        mail = mails["en"]
        context = {**mail.context, "unsubscribe_url": mail.unsubscribe_url}
        subject, text, html = plain(context)
        return build_alternative(sender=SENDER, recipient=mail.recipient.address, subject=subject, text=text,
                                 html=html, message_id=message_id_for(f"e{n}", mail.kind, "example.com"), date=now,
                                 headers=mail.list_headers("example.com"))

    def new(language: str) -> Callable[[int], bytes]:
        mail = mails[language]

        def render(n: int) -> bytes:
            rendered = renderer.render(mail)
            return composer.compose(mail, rendered, message_id_for(f"e{n}", mail.kind, "example.com"), now)[1]
        return render

    def inline_each(n: int) -> bytes:
        mail = mails["en"]
        rendered = uninlined.render(mail)
        html = css_inline.inline(rendered.html.replace("</head>", f"<style>{renderer.css}</style></head>"))
        return composer.compose(mail, rendered.__class__(rendered.subject, rendered.text, html),
                                message_id_for(f"e{n}", mail.kind, "example.com"), now)[1]

    assert mails["en"].preference is Preference.FOLLOW_NOTICES
    return _per_mail_us({"plain_us": old, "layout_en_us": new("en"), "layout_zh_us": new("zh-CN"),
                         "inline_each_us": inline_each}, count)


def measure(config: Config) -> Section:
    section = Section("render", "Render cost per mail", {
        "mails_per_round": config.render_mails, "rounds": ROUNDS, "what": "render subject, text and HTML "
        "and build the MIME message of the follower e-mail, in this process", "anchor": "the plain English "
        "templates the layout replaced (bench/anchors/plain_templates/)"})
    section.runs = [one_run(config) for _ in range(config.runs)]
    runs = section.runs
    plain = [r["plain_us"] for r in runs]
    section.figures = [
        Figure.of("render", "render: layout, CSS inlined at compile time, English", "µs/mail",
                  [r["layout_en_us"] for r in runs], plain, "plain templates", Target("ratio_max", 1.5, "< 1.5x")),
        Figure.of("render", "render: layout, CSS inlined at compile time, Simplified Chinese", "µs/mail",
                  [r["layout_zh_us"] for r in runs], plain, "plain templates", Target("ratio_max", 1.5, "< 1.5x")),
        Figure.of("render", "render: layout with CSS inlined into each mail as it is sent", "µs/mail",
                  [r["inline_each_us"] for r in runs], plain, "plain templates"),
    ]
    return section
