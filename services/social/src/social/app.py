"""The social Flask app factory."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from microblog_plumbing.databases import prepare_sqlite_file, sqlite_pragmas

from social import account, api, auth, avatars, health, main, sessions
from social.errors import register_error_handlers
from social.extensions import babel, csrf, db, limiter, login, migrate
from social.headers import add_security_headers
from social.i18n import init_i18n
from social.limits import storage_config
from social.secrecy import protect_secret_pages
from social.settings import SocialSettings

#: The largest request body a page takes (the API's cap is its own, 64 KiB); forms are far smaller.
MAX_CONTENT_LENGTH = 64 * 1024

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def create_app(settings: SocialSettings | None = None, **config: object) -> Flask:
    """Build the social Flask app.

    `settings` defaults to the environment; `config` overrides Flask config keys (tests use
    it for `TESTING` or `WTF_CSRF_ENABLED`).
    """
    settings = settings or SocialSettings()
    # The database holds addresses: a SQLite file is made readable by its owner only, before
    # the first connection would make it with the umask's mode.
    prepare_sqlite_file(settings.database_url)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret(),
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings.database_url),
        MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH,
        RATELIMIT_HEADERS_ENABLED=True,  # a 429 says when to try again (Retry-After)
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookies_secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.cookies_secure,
        REMEMBER_COOKIE_DURATION=sessions.SESSION_LIFETIME,
    )
    app.config.update(config)
    app.extensions["social_settings"] = settings  # read through `social.settings.current_settings()`

    db.init_app(app)
    with app.app_context():
        if settings.database_url.startswith("sqlite"):
            sa.event.listen(db.engine, "connect", sqlite_pragmas)
        app.config.update(storage_config(settings, db.engine))
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    login.init_app(app)
    login.login_view = "auth.login"
    init_i18n(app, babel)
    csrf.init_app(app)
    limiter.init_app(app)

    app.register_blueprint(health.bp)
    app.register_blueprint(avatars.bp)
    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(api.bp)
    register_error_handlers(app)
    protect_secret_pages(app)
    add_security_headers(app, settings)
    return app


def _engine_options(url: str) -> dict[str, object]:
    if url.startswith("sqlite"):
        # Writers wait for each other instead of failing with "database is locked".
        return {"connect_args": {"timeout": 15}}
    return {"pool_pre_ping": True}
