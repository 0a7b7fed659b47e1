"""`GET /api/users/me`: your own profile, with your address's state and your preferences."""

from __future__ import annotations

from flask.testing import FlaskClient
from social.dbtypes import utcnow

from tests.support.social_app import BASE_URL, api_token, bearer, make_user


def test_me_is_your_profile_with_your_address_its_state_and_your_preferences(client: FlaskClient) -> None:
    user = make_user("susan", about_me="Hi", pending_email="new@example.com")
    body = client.get("/api/users/me", headers=bearer(api_token(client, "susan"))).get_json()
    assert body == {
        "id": user.id,
        "nickname": "susan",
        "about_me": "Hi",
        "avatar_url": f"http://social.test/avatar/{user.id}.png?s=128",
        "last_seen": body["last_seen"],
        "follower_count": 0,
        "following_count": 0,
        "profile_url": f"{BASE_URL}/user/susan",
        "email": "susan@example.com",
        "email_confirmed": False,
        "email_confirmed_at": None,
        "pending_email": "new@example.com",
        "email_bounced": False,
        "locale": "en",
        "time_zone": "UTC",
        "show_last_seen": True,
        "preferences": {
            "follow_notices": "batched", "follow_notices_chosen": False, "follow_notices_default": "batched",
            "announcements": True, "time_zone": "UTC", "digest_hour": 8, "quiet_hours": None,
        },
    }


def test_me_says_when_the_address_was_confirmed_and_whether_mail_to_it_bounced(client: FlaskClient) -> None:
    make_user("susan", email_confirmed_at=utcnow(), email_bounced_at=utcnow(), email_bounce_reply="550 no such user")
    body = client.get("/api/users/me", headers=bearer(api_token(client, "susan"))).get_json()
    assert (body["email_confirmed"], body["email_bounced"]) == (True, True)
    assert body["email_confirmed_at"].endswith("Z")


def test_me_needs_a_token(client: FlaskClient) -> None:
    response = client.get("/api/users/me")
    assert (response.status_code, response.get_json()["error"]) == (401, "unauthorized")
