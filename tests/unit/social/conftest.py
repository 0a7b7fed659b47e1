"""A fresh social app per test, on its own SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.social_app import build_app


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """The app with CSRF off (one test turns it on), its schema made by `create_all`."""
    app = build_app(f"sqlite:///{tmp_path / 'social.db'}", migrate=False)
    with app.app_context():
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
