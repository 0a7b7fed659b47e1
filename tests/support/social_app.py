"""Building a social app for a test, and the few steps many social tests take."""

from __future__ import annotations

import base64
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from microblog_contracts import Envelope, decode_event
from pydantic import BaseModel
from social.app import create_app
from social.extensions import db
from social.models import User
from social.outbox.models import OutboxEvent
from social.settings import SocialSettings
from sqlalchemy import select

BASE_URL = "http://social.test"
PASSWORD = "correct horse battery"
RATE_LIMITS = ("login_rate_limit", "login_account_rate_limit", "signup_rate_limit", "follow_rate_limit",
               "post_rate_limit", "password_reset_rate_limit", "password_reset_address_rate_limit",
               "confirmation_rate_limit")


def build_app(
    database_url: str, *, migrate: bool = True, follow_notice_default: str = "batched", **config: object
) -> Flask:
    """A test app on `database_url`, its schema made by the migrations (or `create_all`).

    Rate limits are out of the way unless `config` names one (`login_rate_limit="3 per minute"`);
    any other setting `config` names is a setting too (`trusted_proxies=1`).
    """
    limits = {name: str(config.pop(name, "1000 per minute")) for name in RATE_LIMITS}
    # Other settings named in `config` (`trusted_proxies=1`) are settings too, not Flask config.
    overrides = {name: config.pop(name) for name in list(config) if name in SocialSettings.model_fields}
    settings = SocialSettings(
        database_url=database_url,
        secret_key="test",
        social_base_url=BASE_URL,
        follow_notice_default=follow_notice_default,  # type: ignore[arg-type]
        **{**limits, **overrides},  # type: ignore[arg-type]
    )
    app = create_app(settings, TESTING=True, **{"WTF_CSRF_ENABLED": False, **config})
    with app.app_context():
        if migrate:
            upgrade()
        else:
            db.create_all()
    return app


def make_user(
    nickname: str, email: str | None = None, password: str = PASSWORD, **fields: object
) -> User:
    """A committed user; call inside an app context."""
    user = User(nickname=nickname, email=email or f"{nickname.lower()}@example.com", **fields)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def basic_auth(nickname: str, password: str = PASSWORD) -> dict[str, str]:
    credentials = base64.b64encode(f"{nickname}:{password}".encode()).decode()
    return {"Authorization": f"Basic {credentials}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def api_token(client: FlaskClient, nickname: str, password: str = PASSWORD) -> str:
    """A bearer token got the way a client gets one."""
    response = client.post("/api/tokens", headers=basic_auth(nickname, password))
    assert response.status_code == 200, response.get_data(as_text=True)
    token: str = response.get_json()["token"]
    return token


def log_in(client: FlaskClient, nickname: str, password: str = PASSWORD) -> None:
    response = client.post("/auth/login", data={"nickname": nickname, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)


def schema_differences(app: Flask) -> list[object]:
    """What alembic's autogenerate would change to make the database match the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, db.metadata))


def recorded_events(event_type: str | None = None) -> list[Envelope[Any]]:
    """The outbox's events (of `event_type`), oldest first, decoded; call inside an app context."""
    query = select(OutboxEvent).order_by(OutboxEvent.position)
    if event_type is not None:
        query = query.where(OutboxEvent.event_type == event_type)
    return [decode_event(row.body.encode()) for row in db.session.scalars(query)]


def mailed_token(event_type: str, url_field: str) -> str:
    """The token of the link in the newest `event_type` event (`confirm_url`, `reset_url`)."""
    data: BaseModel = recorded_events(event_type)[-1].data
    return str(getattr(data, url_field)).rsplit("/", 1)[-1]
