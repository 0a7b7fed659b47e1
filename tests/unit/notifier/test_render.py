from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from notifier.errors import RenderError
from notifier.kinds import discover
from notifier.kinds.follower_email import KIND as FOLLOWER
from notifier.render import RenderedMail, Renderer, TemplatesMissing, default_templates_dir

from tests.support.events import user_followed

REPOSITORY_TEMPLATES = Path(__file__).resolve().parents[3] / "templates"


def render(renderer: Renderer | None = None, **event: object) -> RenderedMail:
    renderer = renderer or Renderer(discover().names)
    return renderer.render(FOLLOWER.mail_for(user_followed(**event)))  # type: ignore[arg-type]


def test_the_templates_are_the_repositorys_own_folder_per_kind() -> None:
    assert default_templates_dir().resolve() == REPOSITORY_TEMPLATES
    assert sorted(p.name for p in (REPOSITORY_TEMPLATES / "follower_email").iterdir()) == [
        "body.html", "body.txt", "subject.txt"]


def test_the_subject_names_the_follower_as_the_tutorial_does() -> None:
    assert render(follower="alice").subject == "[microblog] alice is now following you!"


def test_both_parts_link_to_the_followers_absolute_profile_url() -> None:
    mail = render(follower="alice", base_url="https://micro.example")
    assert "https://micro.example/user/alice" in mail.text
    assert 'href="https://micro.example/user/alice"' in mail.html


def test_script_in_about_me_is_escaped_in_html_and_left_as_text_in_the_text_part() -> None:
    mail = render(about_me="<script>alert('x')</script>")
    assert "<script>" not in mail.html
    assert "&lt;script&gt;" in mail.html
    assert "<script>alert('x')</script>" in mail.text


def test_a_follower_without_about_me_renders_without_the_quote() -> None:
    mail = render(about_me=None)
    assert "blockquote" not in mail.html
    assert "About" not in mail.text


def copy_templates(target: Path) -> Path:
    shutil.copytree(REPOSITORY_TEMPLATES, target, dirs_exist_ok=True)
    return target / "follower_email"


def test_templates_dir_lets_an_operator_restyle_the_mail(tmp_path: Path) -> None:
    (copy_templates(tmp_path) / "subject.txt").write_text("{{ follower.nickname }} follows you now")
    assert render(Renderer(["follower_email"], tmp_path), follower="alice").subject == "alice follows you now"


def test_a_template_naming_a_missing_variable_fails_instead_of_rendering_blank(tmp_path: Path) -> None:
    (copy_templates(tmp_path) / "body.txt").write_text("Hello {{ follower.shoe_size }}")
    with pytest.raises(RenderError, match="shoe_size"):
        render(Renderer(["follower_email"], tmp_path))


def test_a_subject_template_spanning_lines_becomes_one_line(tmp_path: Path) -> None:
    (copy_templates(tmp_path) / "subject.txt").write_text("New\nfollower:\r\n {{ follower.nickname }}\n")
    assert render(Renderer(["follower_email"], tmp_path), follower="al").subject == "New follower: al"


def test_a_templates_dir_without_the_templates_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(TemplatesMissing, match=r"follower_email/subject\.txt"):
        Renderer(["follower_email"], tmp_path)


def test_a_template_with_a_syntax_error_is_refused_at_start(tmp_path: Path) -> None:
    (copy_templates(tmp_path) / "body.html").write_text("{% if %}")
    with pytest.raises(TemplatesMissing, match=r"follower_email/body\.html"):
        Renderer(["follower_email"], tmp_path)
