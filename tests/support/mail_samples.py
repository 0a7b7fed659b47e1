"""One realistic mail of every kind, in a reader's language: what the pictures and the render
benchmark show. Long words and long names on purpose: a layout that overflows shows it here."""

from __future__ import annotations

from datetime import UTC, datetime

from microblog_contracts import AnnouncementText, Follower, Preference
from notifier.announcements.content import prepare_words
from notifier.gathering.batch import Batch, gathered_context
from notifier.kinds import Mail, Policy, Recipient, discover
from notifier.kinds.announcement import KIND as ANNOUNCEMENT
from notifier.render import Renderer

from tests.support.events import (
    BASE_URL,
    change_requested,
    confirmation_requested,
    profile,
    reset_requested,
    signup_attempted,
    user_followed,
)

AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
ABOUT = {"en": "Photographer of rivers, bridges and the occasional heron. Writes about https://example.org/rivers "
               "and Supercalifragilisticexpialidocious-long-hyphenless-words.",
         "zh-CN": "拍河流、桥和偶尔出现的苍鹭的摄影师。也写关于 https://example.org/rivers 的文章。"}
NEWS = {"en": ("Microblog turns two", "Two years ago today the first follow went out.\n\nThis year brought "
               "digests, quiet hours and mail in your language. Read the whole story at "
               "https://microblog.example/news/two-years\n\nThank you for being here."),
        "zh-CN": ("Microblog 两周年", "两年前的今天，第一条关注通知发出。\n\n"
                  "今年我们带来了每日摘要、免打扰时段和你的语言的邮件。完整的故事请看 https://microblog.example/news/two-years\n\n感谢你一直以来的陪伴。")}
KINDS = discover().names


def _follower(n: int, language: str) -> Follower:
    names = ["susan", "张伟", "marcus_aurelius_of_the_long_nickname", "ana", "bo"]
    name = names[(n - 1) % len(names)]
    return Follower(id=n, nickname=name, about_me=ABOUT[language],
                    avatar_url=f"{BASE_URL}/avatar/{n}.png", profile_url=f"{BASE_URL}/user/{name}")  # type: ignore[arg-type]


def sample(kind: str, language: str) -> Mail:
    """The `kind` mail to a reader whose locale is `language` (`en` or `zh-CN`)."""
    reader = profile(nickname="李娜" if language == "zh-CN" else "john", locale=language,
                     time_zone="Asia/Shanghai" if language == "zh-CN" else "Europe/London")
    registry = discover()
    if kind == "follower_email":
        event = user_followed(follower_id=7, follower="susan", about_me=ABOUT[language], followed_profile=reader)
        return registry.for_event(event.type).mail_for(event)  # type: ignore[union-attr]
    if kind in ("email_confirmation", "password_reset", "email_change_notice", "already_registered"):
        event = {"email_confirmation": lambda: confirmation_requested(reader.model_copy(update={
                     "email_confirmed_at": None})),
                 "password_reset": lambda: reset_requested(reader),
                 "email_change_notice": lambda: change_requested(reader),
                 "already_registered": lambda: signup_attempted(reader)}[kind]()
        return registry.for_event(event.type).mail_for(event)  # type: ignore[union-attr]
    recipient = Recipient(reader.user_id, str(reader.email), reader.nickname, reader.locale)
    if kind in ("follower_batch", "follower_digest"):
        followers = tuple(_follower(n, language) for n in range(1, 4))
        batch = Batch("batch-sample", reader.user_id, kind, ("a", "b", "c"), followers, 7 if kind == "follower_batch"
                      else 23, AT)
        return Mail(kind, Policy.NOTIFICATION, "batch-sample", recipient, AT, gathered_context(reader, batch),
                    profile=reader, preference=Preference.FOLLOW_NOTICES)
    if kind == ANNOUNCEMENT.name:
        subject, text = NEWS[language]
        words = prepare_words(AnnouncementText(subject=subject, text=text), Renderer(KINDS).css)
        files = [{"filename": "Microblog-2026-年度报告.pdf", "size": 1_048_576}, {"filename": "roadmap.png",
                                                                                 "size": 84_000}]
        return Mail(kind, Policy.BULK, "announcement-sample", recipient, AT,
                    {"user": reader, "announcement": words, "attachments": files}, profile=reader,
                    preference=Preference.ANNOUNCEMENTS)
    raise ValueError(f"no sample of {kind}")

