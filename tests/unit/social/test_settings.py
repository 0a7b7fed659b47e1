"""Social's settings: what they accept, what they refuse and how, and how the web app reads them."""

from __future__ import annotations

from pathlib import Path

import pytest
from microblog_plumbing.settings import describe_validation_error
from pydantic import ValidationError
from social.app import create_app
from social.settings import SocialSettings, current_settings


def refusal(**values: object) -> str:
    """What `social` prints when settings with `values` are refused."""
    with pytest.raises(ValidationError) as refused:
        SocialSettings(**values)  # type: ignore[arg-type]
    return "\n".join(describe_validation_error(refused.value))


def test_a_relative_sqlite_path_is_taken_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = SocialSettings(database_url="sqlite:///var/social.db")  # type: ignore[call-arg]
    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'social.db'}"


def test_a_database_other_than_sqlite_or_postgresql_is_refused() -> None:
    assert "'mysql' is not supported" in refusal(database_url="mysql://db/social")


def test_a_broker_url_that_is_not_amqp_is_refused_without_showing_its_password() -> None:
    message = refusal(amqp_url="http://guest:s3cret@localhost:5672/")
    assert "is not an AMQP URL" in message
    assert "s3cret" not in message


def test_the_relay_takes_one_broker_url_or_a_clusters_nodes_and_names_a_bad_one_masked() -> None:
    assert SocialSettings(amqp_url=" amqp://a:5672/%2F ").amqp_url == "amqp://a:5672/%2F"  # type: ignore[call-arg]
    nodes = SocialSettings(amqp_url="amqp://a:5672/%2F, amqp://b:5672/%2F")  # type: ignore[call-arg]
    assert nodes.amqp_url == "amqp://a:5672/%2F,amqp://b:5672/%2F"
    message = refusal(amqp_url="amqp://u:s3cret@a:5672/%2F,amqp://u:s3cret@b:port/%2F")
    assert "'amqp://u:***@b:port/%2F' is not a usable AMQP URL" in message
    assert "s3cret" not in message


def test_follow_notices_are_batched_unless_follow_notice_default_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert SocialSettings().follow_notice_default == "batched"  # type: ignore[call-arg]
    monkeypatch.setenv("FOLLOW_NOTICE_DEFAULT", "daily")
    assert SocialSettings().follow_notice_default == "daily"  # type: ignore[call-arg]


def test_a_follow_notice_default_that_is_no_mode_is_refused_in_one_line_naming_the_variable() -> None:
    assert refusal(follow_notice_default="sometimes") == (
        "FOLLOW_NOTICE_DEFAULT: Input should be 'immediately', 'batched', 'daily' or 'off' (got 'sometimes')")


def test_each_app_reads_its_own_settings(tmp_path: Path) -> None:
    apps = [create_app(SocialSettings(database_url=f"sqlite:///{tmp_path / f'{n}.db'}", secret_key="test",  # type: ignore[call-arg]
                                      social_base_url=f"http://social{n}.test"))
            for n in (1, 2)]
    for n, app in enumerate(apps, start=1):
        with app.app_context():
            assert current_settings().base_url == f"http://social{n}.test"
