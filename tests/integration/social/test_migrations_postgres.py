"""The migrations build, on PostgreSQL, exactly the schema the models describe."""

from __future__ import annotations

from flask import Flask
from social.extensions import db
from sqlalchemy import text

from tests.support.social_app import schema_differences


def test_upgrading_a_fresh_database_matches_the_models(app: Flask) -> None:
    assert schema_differences(app) == []


def test_the_outbox_pending_index_is_partial(app: Flask) -> None:
    definition = db.session.execute(
        text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_outbox_events_pending'")
    ).scalar_one()
    assert "WHERE (published_at IS NULL)" in definition
