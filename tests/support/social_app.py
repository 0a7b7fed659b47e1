"""Building a social app for a test, and the few steps many social tests take."""

from __future__ import annotations

import base64

from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from social.app import create_app
from social.extensions import db
from social.models import User
from social.settings import SocialSettings

BASE_URL = "http://social.test"
PASSWORD = "correct horse battery"


def build_app(database_url: str, *, migrate: bool = True, **config: object) -> Flask:
    """A test app on `database_url`, its schema made by the migrations (or `create_all`)."""
    settings = SocialSettings(
        database_url=database_url,
        secret_key="test",
        social_base_url=BASE_URL,
        login_rate_limit=str(config.pop("login_rate_limit", "1000 per minute")),
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
