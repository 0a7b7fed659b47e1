"""The pages in English and Simplified Chinese: the catalog holds every string the code and the
templates mark, the language chosen is the one served and named in `lang`, and the .po files
are what the app runs on (compiled in memory at start, so nothing compiled can go stale)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask.testing import FlaskClient
from social.catalogs import CATALOGS_DIR, compile_catalogs
from social.extensions import db

from tests.support.social_app import build_app, log_in, make_user


@pytest.fixture
def client(tmp_path: Path) -> FlaskClient:
    """A client whose every request has its own app context, as in a server (the language chosen
    is kept in `g` for the length of one)."""
    app = build_app(f"sqlite:///{tmp_path / 'social.db'}", migrate=False)
    with app.app_context():
        susan, bob = make_user("susan"), make_user("bob")
        bob.follow(susan)
        make_user("li", locale="zh-CN")
        make_user("jo", locale="ja")
        db.session.commit()
    return app.test_client()

PACKAGE = CATALOGS_DIR.parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
METHODS = [("**/migrations/**", "ignore"), ("**.py", "python"), ("**/templates/**.html", "jinja2")]


def marked_strings() -> set[str]:
    """Every msgid social's code and templates mark for translation, as `make translations` extracts them."""
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(PACKAGE), METHODS, keywords={**KEYWORDS}, options_map={"**/templates/**.html": {"trimmed": "true"}}):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def zh_catalog() -> dict[str, object]:
    with (CATALOGS_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source, locale="zh_CN")
    return {(m.id[0] if isinstance(m.id, tuple) else m.id): m for m in catalog if m.id}


def test_every_string_marked_in_code_or_templates_is_translated_in_the_chinese_catalog() -> None:
    catalog = zh_catalog()
    missing = sorted(text for text in marked_strings()
                     if text not in catalog or not catalog[text].string or catalog[text].fuzzy)  # type: ignore[attr-defined]
    assert missing == [], "run `make translations` and translate:\n" + "\n".join(missing)


def test_the_chinese_translations_keep_every_placeholder() -> None:
    with (CATALOGS_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source, locale="zh_CN")
    problems = [(message.id, errors) for message, errors in catalog.check() if errors]
    assert problems == []


def test_the_app_runs_on_the_po_files_themselves(tmp_path: Path) -> None:
    po = tmp_path / "zh_CN" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid "Explore"\nmsgstr "探索一下"\n', encoding="utf-8")
    assert compile_catalogs(tmp_path)["zh_CN"].gettext("Explore") == "探索一下"


@pytest.mark.parametrize(("accept", "lang", "words"), [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN", "发现"),
    ("zh", "zh-CN", "发现"),
    ("zh-TW,en;q=0.5", "en", "Explore"),  # Traditional readers are not served Simplified
    ("ja,fr;q=0.8", "en", "Explore"),
    ("", "en", "Explore"),
])
def test_an_anonymous_reader_gets_the_browsers_language_else_english(
        client: FlaskClient, accept: str, lang: str, words: str) -> None:
    page = client.get("/explore", headers={"Accept-Language": accept}).get_data(as_text=True)
    assert f'<html lang="{lang}"' in page and f"<h1>{words}</h1>" in page


def test_a_logged_in_reader_gets_their_own_language_setting_over_the_browsers(client: FlaskClient) -> None:
    log_in(client, "li")
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="zh-CN"' in page and "你的时间线" in page
    client.post("/auth/logout")
    log_in(client, "jo")
    # Japanese is a setting the mail knows, not a language the pages are written in: never labelled `ja`.
    page = client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="zh-CN"' in page
    page = client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="en"' in page and "Your timeline" in page


def test_plurals_follow_the_language(client: FlaskClient) -> None:
    english = client.get("/user/susan").get_data(as_text=True)
    assert "<strong>1</strong> follower<" in english and "<strong>1</strong> followers" not in english
    chinese = client.get("/user/susan", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "<strong>1</strong> 位关注者" in chinese


def test_the_api_stays_english_whatever_the_browser_asks(client: FlaskClient) -> None:
    body = client.get("/api/users/nobody", headers={"Accept-Language": "zh-CN"}).get_json()
    assert body["message"] == "There is no user with that nickname."
