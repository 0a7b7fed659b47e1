from __future__ import annotations

from pathlib import Path

import pytest
from notifier.errors import RenderError
from notifier.render import FOLLOWER_TEMPLATES, MailRenderer, TemplatesMissing

from tests.support.events import user_followed


def test_the_subject_names_the_follower_as_the_tutorial_does() -> None:
    mail = MailRenderer().follower_email(user_followed(follower="alice"))
    assert mail.subject == "[microblog] alice is now following you!"


def test_both_parts_link_to_the_followers_absolute_profile_url() -> None:
    mail = MailRenderer().follower_email(user_followed(follower="alice", base_url="https://micro.example"))
    assert "https://micro.example/user/alice" in mail.text
    assert 'href="https://micro.example/user/alice"' in mail.html


def test_script_in_about_me_is_escaped_in_html_and_left_as_text_in_the_text_part() -> None:
    mail = MailRenderer().follower_email(user_followed(about_me="<script>alert('x')</script>"))
    assert "<script>" not in mail.html
    assert "&lt;script&gt;" in mail.html
    assert "<script>alert('x')</script>" in mail.text


def test_a_follower_without_about_me_renders_without_the_quote() -> None:
    mail = MailRenderer().follower_email(user_followed(about_me=None))
    assert "blockquote" not in mail.html
    assert "About" not in mail.text


def copy_templates(target: Path) -> Path:
    source = MailRenderer().templates_dir
    for name in FOLLOWER_TEMPLATES:
        (target / name).write_text((source / name).read_text())
    return target


def test_templates_dir_lets_an_operator_restyle_the_mail(tmp_path: Path) -> None:
    copy_templates(tmp_path)
    (tmp_path / "follower_email_subject.txt").write_text("{{ follower.nickname }} follows you now")
    mail = MailRenderer(tmp_path).follower_email(user_followed(follower="alice"))
    assert mail.subject == "alice follows you now"


def test_a_template_naming_a_missing_variable_fails_instead_of_rendering_blank(tmp_path: Path) -> None:
    copy_templates(tmp_path)
    (tmp_path / "follower_email.txt").write_text("Hello {{ follower.shoe_size }}")
    with pytest.raises(RenderError, match="shoe_size"):
        MailRenderer(tmp_path).follower_email(user_followed())


def test_a_subject_template_spanning_lines_becomes_one_line(tmp_path: Path) -> None:
    copy_templates(tmp_path)
    (tmp_path / "follower_email_subject.txt").write_text("New\nfollower:\r\n {{ follower.nickname }}\n")
    assert MailRenderer(tmp_path).follower_email(user_followed(follower="al")).subject == "New follower: al"


def test_a_templates_dir_without_the_templates_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(TemplatesMissing, match="follower_email"):
        MailRenderer(tmp_path)


def test_a_template_with_a_syntax_error_is_refused_at_start(tmp_path: Path) -> None:
    copy_templates(tmp_path)
    (tmp_path / "follower_email.html").write_text("{% if %}")
    with pytest.raises(TemplatesMissing, match=r"follower_email\.html"):
        MailRenderer(tmp_path)
