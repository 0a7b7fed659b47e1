from __future__ import annotations

from datetime import timedelta

import pytest
from microblog_plumbing.moments import parse_duration
from microblog_plumbing.settings import describe_validation_error
from notifier.settings import NotifierSettings
from pydantic import ValidationError


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ADMINS", "MAIL_DEFAULT_SENDER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USE_SSL",
                 "MAIL_USERNAME", "MAIL_PASSWORD", "NOTIFIER_RETRY_DELAYS", "TEMPLATES_DIR"):
        monkeypatch.delenv(name, raising=False)


def test_the_sender_defaults_to_the_first_admin_as_in_the_tutorial(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMINS", "root@example.com, ops@example.com")
    settings = NotifierSettings()
    assert settings.admins == ["root@example.com", "ops@example.com"]
    assert settings.sender == "root@example.com"


def test_admins_may_also_be_a_json_list_as_pydantic_settings_users_write_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMINS", '["root@example.com", "Ops <ops@example.com>"]')
    assert NotifierSettings().admins == ["root@example.com", "Ops <ops@example.com>"]


def test_several_brokers_may_be_given_and_a_malformed_one_is_named_without_its_password(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMQP_URL", "amqp://u:p@mq1:5672/%2F,amqp://u:p@mq2:5672/%2F")
    assert errors_for(monkeypatch, ADMINS="a@example.com", AMQP_URL="amqp://u:p@mq1/%2F,amqp://u:s3cret@mq2:port/") == [
        "AMQP_URL: 'amqp://u:***@mq2:port/' is not a usable AMQP URL (ValueError)"]


def test_retry_delays_and_cooldown_read_human_durations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMINS", "root@example.com")
    monkeypatch.setenv("NOTIFIER_RETRY_DELAYS", "500ms, 10s,1m, 6h")
    monkeypatch.setenv("NOTIFIER_COOLDOWN", "2d")
    settings = NotifierSettings()
    assert settings.notifier_retry_delays == [timedelta(milliseconds=500), timedelta(seconds=10),
                                              timedelta(minutes=1), timedelta(hours=6)]
    assert settings.notifier_cooldown == timedelta(days=2)
    assert parse_duration("90") == timedelta(seconds=90)


def errors_for(monkeypatch: pytest.MonkeyPatch, **env: str) -> list[str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        NotifierSettings()
    return describe_validation_error(caught.value)


def test_a_wrong_port_is_reported_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = errors_for(monkeypatch, ADMINS="a@example.com", MAIL_PORT="smtp")
    assert lines == ["MAIL_PORT: Input should be a valid integer, unable to parse string as an integer (got 'smtp')"]


def test_tls_and_ssl_together_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = errors_for(monkeypatch, ADMINS="a@example.com", MAIL_USE_TLS="1", MAIL_USE_SSL="1")
    assert "MAIL_USE_TLS and MAIL_USE_SSL exclude each other" in lines[0]


def test_no_sender_at_all_is_read_and_refused_only_where_mail_is_sent() -> None:
    settings = NotifierSettings()  # enough for `notifier dlq list`, which sends nothing
    assert not settings.has_sender
    with pytest.raises(ValueError, match="set MAIL_DEFAULT_SENDER or ADMINS: mail needs a sender"):
        settings.sender  # noqa: B018 (the property is the check)


def test_a_bad_admin_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert errors_for(monkeypatch, ADMINS="not-an-address")[0].startswith("ADMINS: not an e-mail address")


def test_a_password_never_appears_in_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = errors_for(monkeypatch, ADMINS="a@example.com", MAIL_PASSWORD="hunter2-secret")
    assert lines
    assert all("hunter2" not in line for line in lines)


def test_a_password_never_appears_when_settings_are_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMINS", "a@example.com")
    settings = NotifierSettings(mail_username="u", mail_password="hunter2-secret")  # type: ignore[arg-type]
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings.model_dump())


def test_a_missing_templates_dir_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = errors_for(monkeypatch, ADMINS="a@example.com", TEMPLATES_DIR="/no/such/dir")
    assert lines[0].startswith("TEMPLATES_DIR: /no/such/dir is not a directory")
