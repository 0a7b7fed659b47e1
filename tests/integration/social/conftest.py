"""A social app per test on its own fresh PostgreSQL database, schema made by the migrations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.social_app import build_app


@pytest.fixture
def app(postgres_url: str) -> Iterator[Flask]:
    app = build_app(postgres_url, migrate=True)
    with app.app_context():
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
