"""Signing up says nothing of whose address is whose: the same answer, and the address's owner
gets a mail instead. Sign-ups are rate limited per client."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from microblog_contracts import EMAIL_SIGNUP_ATTEMPTED
from social.extensions import db
from social.models import User
from social.outbox.models import OutboxEvent
from sqlalchemy import func, select

from tests.support.social_app import PASSWORD, build_app, make_user, recorded_events

NEW = {"nickname": "newcomer", "email": "fresh@example.com", "password": PASSWORD}
TAKEN = {"nickname": "newcomer", "email": "SUSAN@example.com", "password": PASSWORD}


def attempts(app: Flask) -> list[dict[str, object]]:

    rows = db.session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == EMAIL_SIGNUP_ATTEMPTED)).all()
    return [json.loads(row.body)["data"] for row in rows]


def users() -> int:
    return int(db.session.scalar(select(func.count()).select_from(User)) or 0)


def test_the_api_answers_a_taken_address_as_it_answers_a_free_one(app: Flask, client: FlaskClient) -> None:
    make_user("susan")
    taken = client.post("/api/users", json=TAKEN)
    db.session.rollback()
    assert users() == 1
    free = client.post("/api/users", json={**NEW, "nickname": "other"})
    assert (taken.status_code, free.status_code) == (202, 202)
    assert taken.get_json().keys() == free.get_json().keys()
    assert taken.get_json()["message"].replace("susan@example.com", "X") == \
        free.get_json()["message"].replace("fresh@example.com", "X").replace("other", "newcomer")


def test_the_page_answers_a_taken_address_as_it_answers_a_free_one(app: Flask, client: FlaskClient) -> None:
    make_user("susan")
    form = {**TAKEN, "password2": PASSWORD}
    taken = client.post("/auth/register", data=form, follow_redirects=True).get_data(as_text=True)
    free = client.post("/auth/register", data={**form, "nickname": "other", "email": "fresh@example.com"},
                       follow_redirects=True).get_data(as_text=True)
    assert "already" not in taken
    assert taken.replace("susan@example.com", "X") == \
        free.replace("fresh@example.com", "X").replace("other", "newcomer")


def test_the_owner_of_a_taken_address_is_told_with_a_link_to_reset_the_password(
    app: Flask, client: FlaskClient
) -> None:
    owner = make_user("susan")
    client.post("/api/users", json=TAKEN)
    [data] = attempts(app)
    assert data["profile"]["user_id"] == owner.id  # type: ignore[index]
    assert data["profile"]["email"] == "susan@example.com"  # type: ignore[index]
    assert str(data["reset_url"]).startswith("http://social.test/reset_password/")
    assert recorded_events("user.profile_changed") == []  # no account was made


def test_an_owner_gets_no_more_of_these_mails_than_reset_links(tmp_path: Path) -> None:
    app = build_app(f"sqlite:///{tmp_path / 'social.db'}", migrate=False,
                    password_reset_address_rate_limit="2 per hour")
    with app.app_context():
        make_user("susan")
        client = app.test_client()
        for n in range(4):
            assert client.post("/api/users", json={**TAKEN, "nickname": f"n{n}"}).status_code == 202
        assert len(attempts(app)) == 2


def test_sign_ups_are_limited_per_client_pages_and_api_together(tmp_path: Path) -> None:
    app = build_app(f"sqlite:///{tmp_path / 'social.db'}", migrate=False, signup_rate_limit="2 per hour")
    with app.app_context():
        client = app.test_client()
        assert client.post("/api/users", json=NEW).status_code == 202
        page = client.post("/auth/register", data={**NEW, "nickname": "two", "email": "two@example.com",
                                                   "password2": PASSWORD})
        assert page.status_code == 302
        refused = client.post("/api/users", json={**NEW, "nickname": "three", "email": "three@example.com"})
        assert refused.status_code == 429
        assert "Retry-After" in refused.headers
        assert users() == 2
