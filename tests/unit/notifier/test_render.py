"""Mail in the reader's language, in one layout, its CSS inlined, its templates compiled once."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import css_inline
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from notifier.errors import RenderError
from notifier.kinds import discover
from notifier.kinds.email_confirmation import KIND as CONFIRMATION
from notifier.kinds.follower_email import KIND as FOLLOWER
from notifier.render import LANGUAGES, RenderedMail, Renderer, TemplatesMissing, default_templates_dir, language_of

from tests.support.events import confirmation_requested, profile, user_followed

REPOSITORY_TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
RENDERER = Renderer(discover().names, postal_address="Microblog · 1 Example Street · Springfield")


def render(renderer: Renderer | None = None, **event: object) -> RenderedMail:
    return (renderer or RENDERER).render(FOLLOWER.mail_for(user_followed(**event)))  # type: ignore[arg-type]


def test_the_templates_are_the_repositorys_own_folder_per_kind_around_one_layout() -> None:
    assert default_templates_dir().resolve() == REPOSITORY_TEMPLATES
    assert sorted(p.name for p in (REPOSITORY_TEMPLATES / "follower_email").iterdir()) == [
        "body.html", "body.txt", "subject.txt"]
    assert {"base.html", "base.txt", "mail.css"} <= {p.name for p in (REPOSITORY_TEMPLATES / "_layout").iterdir()}


def test_the_subject_names_the_follower_in_the_readers_language() -> None:
    assert render(follower="alice").subject == "[microblog] alice is now following you!"
    assert render(follower="alice", locale="zh-CN").subject == "[microblog] alice 关注了你！"
    assert render(follower="alice", locale="de").subject == "[microblog] alice is now following you!"


def test_a_locale_is_read_as_simplified_chinese_or_else_english() -> None:
    assert [language_of(tag) for tag in ("zh-CN", "zh", "zh_CN", "zh-Hans", "en", "pt-BR", "zh-TW")] == [
        "zh_CN", "zh_CN", "zh_CN", "zh_CN", "en", "en", "en"]


def test_the_layout_has_a_preheader_dark_mode_a_footer_that_says_why_and_the_postal_line() -> None:
    html = render().html
    assert '<meta name="color-scheme" content="light dark">' in html
    assert 'class="preheader"' in html and "follows you on Microblog now." in html
    assert "You get this mail because someone followed you on Microblog." in html
    assert "Microblog · 1 Example Street · Springfield" in html
    assert "prefers-color-scheme: dark" in html  # kept in a style tag for the clients that read it


def test_the_css_is_written_once_and_inlined_into_the_elements() -> None:
    html = render().html
    assert 'class="card" style="max-width: 560px;' in html
    assert 'class="button"' in html and "background: #0969da" in html
    css = (REPOSITORY_TEMPLATES / "_layout" / "mail.css").read_text()
    assert ".card {" in css and "max-width: 560px" not in (REPOSITORY_TEMPLATES / "_layout" / "base.html").read_text()


def test_inlining_once_at_compile_time_is_what_inlining_each_mail_would_give() -> None:
    css = (REPOSITORY_TEMPLATES / "_layout" / "mail.css").read_text()
    inliner = css_inline.CSSInliner(keep_at_rules=True, extra_css=css, load_remote_stylesheets=False)
    compiled, plain = Renderer(discover().names, postal_address="P"), Renderer(discover().names, postal_address="P",
                                                                                 inline=False)
    for locale in ("en", "zh-CN"):
        mail = FOLLOWER.mail_for(user_followed(about_me="hi & bye", locale=locale))
        assert compiled.render(mail).html == inliner.inline(plain.render(mail).html)


def test_both_parts_link_to_the_followers_absolute_profile_url() -> None:
    mail = render(follower="alice", base_url="https://micro.example")
    assert "https://micro.example/user/alice" in mail.text
    assert 'href="https://micro.example/user/alice"' in mail.html


def test_a_followers_words_are_a_quotation_whose_markup_is_escaped_and_links_dead() -> None:
    mail = render(about_me="<script>alert('x')</script> see https://evil.example/login")
    assert "<script>" not in mail.html
    assert "&lt;script&gt;" in mail.html
    assert 'class="quote"' in mail.html
    for part in (mail.html, mail.text):
        assert "https://evil.example" not in part  # a mail client cannot make it a link
        assert "evil.\u200bexample" in part  # the words still read the same
    assert "<script>alert('x')" in mail.text  # the text part is not HTML: nothing escaped


def test_a_follower_without_about_me_renders_without_the_quote() -> None:
    mail = render(about_me=None)
    assert "blockquote" not in mail.html
    assert "in their own words" not in mail.text


def test_only_notifications_carry_the_unsubscribe_link_in_their_footer() -> None:
    follow = render()
    assert "Unsubscribe from these mails" in follow.html
    assert "/unsubscribe/" in follow.text
    confirmation = RENDERER.render(CONFIRMATION.mail_for(confirmation_requested()))  # type: ignore[arg-type]
    assert "unsubscribe" not in confirmation.html.lower()


def test_times_are_in_the_readers_zone_and_language() -> None:
    shanghai = profile(locale="zh-CN", time_zone="Asia/Shanghai", confirmed=False)
    event = confirmation_requested(shanghai, expires_at=datetime(2026, 12, 8, 16, 30, tzinfo=UTC))
    text = RENDERER.render(CONFIRMATION.mail_for(event)).text  # type: ignore[arg-type]
    assert "2026年12月9日 00:30:00" in text  # 16:30 UTC is 00:30 the next day in Shanghai
    english = RENDERER.render(CONFIRMATION.mail_for(confirmation_requested(  # type: ignore[arg-type]
        expires_at=datetime(2026, 12, 8, 16, 30, tzinfo=UTC)))).text
    assert "Dec 8, 2026, 4:30:00\u202fPM" in english


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_every_string_in_the_templates_is_translated_in_each_catalog(language: str) -> None:
    mapping = [("**/**.html", "jinja2"), ("**/**.txt", "jinja2")]
    wanted = {msg[2] for msg in extract_from_dir(str(REPOSITORY_TEMPLATES), mapping,
                                                 options_map={"**/**.html": {"extensions": "jinja2.ext.i18n"},
                                                              "**/**.txt": {"extensions": "jinja2.ext.i18n"}},
                                                 keywords={"_": None, "gettext": None, "ngettext": (1, 2)})}
    with (REPOSITORY_TEMPLATES / "_locales" / language / "LC_MESSAGES" / "mail.po").open("rb") as source:
        catalog = read_po(source, locale=language)
    translated = {m.id for m in catalog if m.id and m.string and all(m.string if isinstance(m.string, tuple)
                                                                     else [m.string]) and not m.fuzzy}
    missing = {w for w in wanted if w not in translated}
    assert not missing, f"not in templates/_locales/{language}: run `make translations` and translate {missing}"


def copy_templates(target: Path) -> Path:
    shutil.copytree(REPOSITORY_TEMPLATES, target, dirs_exist_ok=True)
    return target / "follower_email"


def test_templates_dir_lets_an_operator_restyle_the_mail(tmp_path: Path) -> None:
    (copy_templates(tmp_path) / "subject.txt").write_text("{{ follower.nickname }} follows you now")
    assert render(Renderer(["follower_email"], tmp_path), follower="alice").subject == "alice follows you now"


def test_a_template_naming_a_missing_variable_fails_instead_of_rendering_blank(tmp_path: Path) -> None:
    (copy_templates(tmp_path) / "body.txt").write_text(
        "{% block content %}Hello {{ follower.shoe_size }}{% endblock %}")
    with pytest.raises(RenderError, match="shoe_size"):
        render(Renderer(["follower_email"], tmp_path))


def test_a_subject_template_spanning_lines_becomes_one_line(tmp_path: Path) -> None:
    (copy_templates(tmp_path) / "subject.txt").write_text("New\nfollower:\r\n {{ follower.nickname }}\n")
    assert render(Renderer(["follower_email"], tmp_path), follower="al").subject == "New follower: al"


def test_a_templates_dir_without_the_templates_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(TemplatesMissing, match=r"_layout/base\.txt"):
        Renderer(["follower_email"], tmp_path)


def test_a_template_with_a_syntax_error_is_refused_at_start(tmp_path: Path) -> None:
    (copy_templates(tmp_path) / "body.html").write_text("{% block content %}{% if %}{% endblock %}")
    with pytest.raises(TemplatesMissing, match="follower_email"):
        Renderer(["follower_email"], tmp_path)


def test_a_jinja_statement_inside_a_tables_structure_is_refused_at_start(tmp_path: Path) -> None:
    (copy_templates(tmp_path) / "body.html").write_text(
        "{% block content %}<table>{% for f in followers %}<tr><td>{{ f }}</td></tr>{% endfor %}</table>"
        "{% endblock %}")
    with pytest.raises(TemplatesMissing, match="where HTML allows no text"):
        Renderer(["follower_email"], tmp_path)




def test_translating_when_compiling_gives_what_the_i18n_extension_gives_per_mail(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from notifier import render as render_module

    from tests.support.mail_samples import KINDS, sample

    compiled = Renderer(KINDS, postal_address="p", inline=False)
    monkeypatch.setattr(render_module, "translate_source", lambda source, _translations, _where: source)
    per_mail = Renderer(KINDS, postal_address="p", inline=False)
    for kind in KINDS:
        for language in ("en", "zh-CN"):
            mail = sample(kind, language)
            assert compiled.render(mail) == per_mail.render(mail), (kind, language)


@pytest.mark.parametrize(("count", "english", "chinese"), [
    (3, "f1, f2 and 1 other are now", "f1、f2 和其他 1 人关注了你"),
    (4, "f1, f2 and 2 others are now", "f1、f2 和其他 2 人关注了你"),
])
def test_plural_forms_follow_the_count_in_each_language(count: int, english: str, chinese: str) -> None:
    from notifier.gathering.batch import Batch, gathered_context

    from tests.support.mail_samples import sample

    for language, words in (("en", english), ("zh-CN", chinese)):
        mail = sample("follower_batch", language)
        named = tuple(f.model_copy(update={"nickname": f"f{i + 1}"}) for i, f in enumerate(mail.context["followers"]))
        batch = Batch("b", 1, "follower_batch", ("a",), named[:2], count, mail.occurred_at)
        rendered = RENDERER.render(mail.__class__(**{**{f: getattr(mail, f) for f in mail.__dataclass_fields__},
                                                      "context": gathered_context(mail.context["user"], batch)}))
        assert words in rendered.subject


def test_a_translation_that_smuggles_template_syntax_is_refused(tmp_path: Path) -> None:
    copy_templates(tmp_path)
    po = tmp_path / "_locales" / "zh_CN" / "LC_MESSAGES" / "mail.po"
    po.write_text(po.read_text().replace('msgstr "退订此类邮件"', 'msgstr "{{ config }}"'))
    with pytest.raises(TemplatesMissing, match="template syntax"):
        Renderer(discover().names, tmp_path)
