"""The API keeps the promises of its own OpenAPI document, checked by schemathesis.

Each operation gets generated valid and invalid requests; every answer must have a documented
status and a body matching its schema, valid input must be accepted, invalid input refused,
and nothing may be a 500. (schemathesis's lazy pytest fixture does not run on this pytest, so
the cases are drawn with `as_strategy` under a plain hypothesis `@given`.)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.schemas import BaseSchema
from social.accounts import InvalidNickname, normalize_nickname
from social.api.openapi import openapi_document
from social.extensions import db
from social.models import ApiToken, User
from social.paging import BadCursor, Cursor
from social.passwords import password_problem

from tests.support.social_app import (
    BASE_URL,
    PASSWORD,
    basic_auth,
    bearer,
    build_app,
    make_user,
)

NICKNAME = "alice"
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "40"))
OPERATIONS = [
    (method.upper(), path)
    for path, methods in openapi_document(BASE_URL)["paths"].items()
    for method in methods
]
#: Operations whose only input is a free string in the path: no request violates the schema.
NOTHING_TO_NEGATE = {("GET", "/api/openapi.json"), ("GET", "/api/users/{nickname}")}
CASES = [
    pytest.param(method, path, mode, id=f"{method} {path} {mode.value}")
    for method, path in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or (method, path) not in NOTHING_TO_NEGATE
]


@pytest.fixture
def app(postgres_url: str) -> Iterator[Flask]:
    """The app on a fresh PostgreSQL database, its login limit out of the run's way (the
    limit itself is tested elsewhere; here a 429 would only hide what the probes check)."""
    app = build_app(postgres_url, login_rate_limit="1000000 per minute")
    with app.app_context():
        yield app


@pytest.fixture
def api_schema(app: Flask) -> BaseSchema:
    """The app's own document, with users to look up and follow and fresh credentials."""
    make_user(NICKNAME)
    make_user("bob")
    make_user("Zoë")
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)

    @schema.auth(refresh_interval=None)
    class FreshCredentials:
        """Basic for `POST /api/tokens`, else a new bearer token (a case may revoke its own)."""

        def get(self, case: Case, context: Any) -> str:
            with app.app_context():
                user = db.session.query(User).filter_by(nickname=NICKNAME).one()
                _, token = ApiToken.issue(user)
                db.session.commit()
            return token

        def set(self, case: Case, data: str, context: Any) -> None:
            case.headers = case.headers or {}
            if case.operation.path == "/api/tokens" and case.method.upper() == "POST":
                case.headers.update(basic_auth(NICKNAME, PASSWORD))
            else:
                case.headers.update(bearer(data))

    return schema


def describable(case: Case) -> bool:
    """Whether the document can say that `case` is valid. JSON Schema cannot compare two fields,
    so quiet hours that end when they start (a 422 naming `quiet_hours.end`, held by the unit
    tests) are left out of the valid cases; nor can it list 20,000 common passwords, compare a
    password with the nickname, see which nicknames look alike or are reserved, which texts are
    cursors the API made or which posts are blanks only (each a 422 naming its field, held by the
    unit tests)."""
    body = case.body if isinstance(case.body, dict) else {}
    if not _cursors_from_the_api(case) or (case.operation.path == "/api/posts" and isinstance(body.get("body"), str)
                                           and not body["body"].strip()):
        return False
    quiet = body.get("quiet_hours")
    if isinstance(quiet, dict) and quiet.get("start") == quiet.get("end"):
        return False
    nickname, email = body.get("nickname"), body.get("email")
    if isinstance(nickname, str) and case.operation.path == "/api/users":
        try:
            normalize_nickname(nickname)
        except InvalidNickname:
            return False
    for field in ("password", "new_password"):
        password = body.get(field)
        if isinstance(password, str) and field in _CHOSEN_PASSWORDS.get(case.operation.path, ()) and password_problem(
                password, nickname=nickname if isinstance(nickname, str) else NICKNAME,
                email=email if isinstance(email, str) else f"{NICKNAME}@example.com"):
            return False
    return True


def _cursors_from_the_api(case: Case) -> bool:
    """A timeline's `before` and `after` are opaque cursors: the document can say only that they
    are text, not which texts the API made (any other is a 422, held by the unit tests)."""
    if "{nickname}/posts" not in case.operation.path and case.operation.path not in (
            "/api/posts", "/api/users/me/timeline"):
        return True
    query = case.query or {}
    for name in ("before", "after"):
        if name in query:
            try:
                Cursor.decode(str(query[name]))
            except BadCursor:
                return False
    return True


#: Where a password is being chosen, by operation path (elsewhere it is only checked).
_CHOSEN_PASSWORDS = {"/api/users": ("password",), "/api/users/me/password": ("new_password",),
                     "/api/password-resets/{token}": ("password",)}


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_every_api_answer_matches_the_openapi_document(
    api_schema: BaseSchema, method: str, path: str, mode: GenerationMode
) -> None:
    operation = api_schema[path][method]
    cases = operation.as_strategy(mode, auth_storage=api_schema.auth)
    if mode is GenerationMode.POSITIVE:
        cases = cases.filter(describable)

    @given(case=cases)
    @settings(
        max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def conforms(case: Case) -> None:
        case.call_and_validate()

    conforms()
