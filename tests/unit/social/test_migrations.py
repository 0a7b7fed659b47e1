"""The migrations build, on SQLite, exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

from flask_migrate import downgrade
from social.extensions import db
from sqlalchemy import inspect

from tests.support.social_app import build_app, schema_differences


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
