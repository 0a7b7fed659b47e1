"""The migrations build, on SQLite, exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

from flask_migrate import downgrade, upgrade
from social.extensions import db
from social.models import User
from sqlalchemy import inspect, select, text

from tests.support.social_app import PASSWORD, api_token, build_app, schema_differences


def test_upgrading_a_fresh_database_matches_the_models(tmp_path: Path) -> None:
    app = build_app(f"sqlite:///{tmp_path / 'fresh.db'}", migrate=True)
    assert schema_differences(app) == []


def test_the_outbox_pending_index_is_partial_on_sqlite(tmp_path: Path) -> None:
    app = build_app(f"sqlite:///{tmp_path / 'fresh.db'}", migrate=True)
    with app.app_context():
        sql = (
            db.session.connection()
            .exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'ix_outbox_events_pending'"
            )
            .scalar_one()
        )
    assert "WHERE published_at IS NULL" in sql


def test_downgrading_removes_every_table(tmp_path: Path) -> None:
    app = build_app(f"sqlite:///{tmp_path / 'fresh.db'}", migrate=True)
    with app.app_context():
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}


def test_upgrading_keeps_existing_accounts_working_unconfirmed_and_on_the_default_mode_each_with_a_salt(
    tmp_path: Path,
) -> None:
    app = build_app(f"sqlite:///{tmp_path / 'old.db'}", migrate=False)
    with app.app_context():
        db.drop_all()
        upgrade(revision="0001_initial")
        password_hash = User(nickname="x", email="x@example.com")
        password_hash.set_password(PASSWORD)
        for n in range(3):
            db.session.execute(text(
                "INSERT INTO users (nickname, nickname_key, email, password_hash, locale, last_seen, created_at) "
                "VALUES (:n, :n, :e, :h, 'en', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"),
                {"n": f"old{n}", "e": f"old{n}@example.com", "h": password_hash.password_hash})
        db.session.commit()

        upgrade()

        users = db.session.scalars(select(User).order_by(User.id)).all()
        assert [(u.email_confirmed, u.profile_version, u.follow_notices, u.announcements, u.time_zone,
                 u.digest_hour, u.quiet_hours_start) for u in users] == [(False, 0, None, True, "UTC", 8, None)] * 3
        assert len({u.unsubscribe_salt for u in users}) == 3
        assert schema_differences(app) == []
        assert api_token(app.test_client(), "old1")  # the old password still works
