"""The JSON API: status codes, bodies and JSON errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from social.dbtypes import utcnow
from social.extensions import db
from social.models import ApiToken
from social.outbox.models import OutboxEvent
from sqlalchemy import select

from tests.support.social_app import BASE_URL, PASSWORD, api_token, basic_auth, bearer, make_user

SIGN_UP = {"nickname": "Susan", "email": "Susan@Example.com", "password": PASSWORD}


def assert_error(response: object, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert response.mimetype == "application/json"  # type: ignore[attr-defined]
    body: dict[str, object] = response.get_json()  # type: ignore[attr-defined]
    assert body["error"] == code
    assert isinstance(body["message"], str)
    assert body["message"]
    return body


def test_signing_up_answers_202_and_makes_the_user(client: FlaskClient) -> None:
    response = client.post("/api/users", json={**SIGN_UP, "about_me": "Hi", "locale": "zh-CN"})
    assert response.status_code == 202
    assert response.get_json()["nickname"] == "Susan"
    assert "password" not in response.get_data(as_text=True)
    body = client.get("/api/users/Susan").get_json()
    assert body["about_me"] == "Hi"
    assert body["profile_url"] == f"{BASE_URL}/user/Susan"
    assert (body["follower_count"], body["following_count"]) == (0, 0)


def test_signing_up_with_a_taken_nickname_is_a_409(client: FlaskClient) -> None:
    client.post("/api/users", json=SIGN_UP)
    assert_error(client.post("/api/users", json={**SIGN_UP, "email": "x@example.com"}), 409, "nickname_taken")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"nickname": "two words"}, "nickname"),
        ({"nickname": ".."}, "nickname"),
        ({"email": "nope"}, "email"),
        ({"password": "short"}, "password"),
        ({"about_me": "x" * 281}, "about_me"),
        ({"about_me": "nul\x00"}, "about_me"),
        ({"locale": "xx-XX"}, "locale"),
        ({"admin": True}, "admin"),
        ({"nickname": 5}, "nickname"),
    ],
)
def test_signing_up_with_an_invalid_field_is_a_422_naming_it(
    client: FlaskClient, changes: dict[str, object], field: str
) -> None:
    body = assert_error(
        client.post("/api/users", json={**SIGN_UP, **changes}), 422, "invalid_fields"
    )
    assert field in body["fields"]  # type: ignore[operator]


def test_a_missing_field_is_a_422(client: FlaskClient) -> None:
    body = assert_error(client.post("/api/users", json={"nickname": "x"}), 422, "invalid_fields")
    assert set(body["fields"]) == {"email", "password"}  # type: ignore[arg-type]


def test_a_body_that_is_not_an_object_is_a_422(client: FlaskClient) -> None:
    assert_error(client.post("/api/users", json=[1, 2]), 422, "invalid_fields")


@pytest.mark.parametrize(
    ("data", "content_type", "code"),
    [
        ("{bad json", "application/json", "malformed_json"),
        (b"\xff\xfe", "application/json", "malformed_json"),
        ("nickname=susan", "application/x-www-form-urlencoded", "not_json"),
        ("", "text/plain", "not_json"),
    ],
)
def test_a_body_that_is_not_json_is_a_400(
    client: FlaskClient, data: str | bytes, content_type: str, code: str
) -> None:
    assert_error(client.post("/api/users", data=data, content_type=content_type), 400, code)


def test_a_huge_body_is_refused_unread(client: FlaskClient) -> None:
    response = client.post("/api/users", data="x" * 100_000, content_type="application/json")
    assert_error(response, 413, "request_entity_too_large")


def test_a_token_is_issued_for_basic_credentials(client: FlaskClient) -> None:
    make_user("susan")
    response = client.post("/api/tokens", headers=basic_auth("SUSAN"))
    assert response.status_code == 200
    body = response.get_json()
    assert len(body["token"]) >= 43
    assert body["expires_at"].endswith("Z")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic_auth("susan", "wrong"),
        basic_auth("nobody"),
        {"Authorization": "Basic !!"},
        bearer("whatever"),
    ],
)
def test_a_token_needs_the_right_basic_credentials(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    make_user("susan")
    response = client.post("/api/tokens", headers=headers)
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_asking_for_tokens_is_rate_limited(tmp_path: object) -> None:
    from tests.support.social_app import build_app

    app = build_app(f"sqlite:///{tmp_path}/rl.db", migrate=False, login_rate_limit="2 per minute")
    client = app.test_client()
    codes = [client.post("/api/tokens", headers=basic_auth("x")).status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    assert_error(client.post("/api/tokens", headers=basic_auth("x")), 429, "too_many_requests")


def test_a_revoked_token_stops_working(client: FlaskClient) -> None:
    make_user("susan")
    make_user("bob")
    token = api_token(client, "susan")
    assert client.delete("/api/tokens", headers=bearer(token)).status_code == 204
    response = client.put("/api/users/me/following/bob", headers=bearer(token))
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_follow_looks_its_token_up_once(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """The follow limit and the view both need the token's owner: one lookup serves both, and the
    next request looks again (a token revoked in between is refused, as above)."""
    make_user("susan")
    make_user("bob")
    make_user("carol")
    token = api_token(client, "susan")
    lookups: list[str] = []
    find_valid = ApiToken.find_valid

    def counted(token: str, **kwargs: object) -> ApiToken | None:
        lookups.append(token)
        return find_valid(token, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ApiToken, "find_valid", counted)
    assert client.put("/api/users/me/following/bob", headers=bearer(token)).status_code == 204
    assert len(lookups) == 1
    assert client.put("/api/users/me/following/carol", headers=bearer(token)).status_code == 204
    assert len(lookups) == 2


def test_an_expired_token_is_refused(client: FlaskClient) -> None:
    susan = make_user("susan")
    make_user("bob")
    _, token = ApiToken.issue(susan, now=utcnow() - timedelta(days=2))
    db.session.commit()
    assert_error(
        client.put("/api/users/me/following/bob", headers=bearer(token)), 401, "unauthorized"
    )


def test_following_through_the_api_is_idempotent_and_emits_one_event(client: FlaskClient) -> None:
    make_user("susan")
    make_user("bob")
    token = api_token(client, "susan")
    assert client.put("/api/users/me/following/BOB", headers=bearer(token)).status_code == 204
    assert client.put("/api/users/me/following/bob", headers=bearer(token)).status_code == 204
    assert len(db.session.scalars(select(OutboxEvent)).all()) == 1
    assert client.get("/api/users/bob").get_json()["follower_count"] == 1


def test_unfollowing_through_the_api_is_idempotent(client: FlaskClient) -> None:
    make_user("susan")
    make_user("bob")
    token = api_token(client, "susan")
    client.put("/api/users/me/following/bob", headers=bearer(token))
    for _ in range(2):
        assert (
            client.delete("/api/users/me/following/bob", headers=bearer(token)).status_code == 204
        )
    assert client.get("/api/users/bob").get_json()["follower_count"] == 0


def test_following_yourself_through_the_api_is_a_422(client: FlaskClient) -> None:
    make_user("susan")
    token = api_token(client, "susan")
    response = client.put("/api/users/me/following/susan", headers=bearer(token))
    assert_error(response, 422, "cannot_follow_self")
    assert db.session.scalars(select(OutboxEvent)).all() == []


@pytest.mark.parametrize("method", ["put", "delete"])
def test_following_needs_a_token_and_an_existing_user(client: FlaskClient, method: str) -> None:
    make_user("susan")
    call = getattr(client, method)
    assert_error(call("/api/users/me/following/susan"), 401, "unauthorized")
    assert_error(
        call("/api/users/me/following/susan", headers={"Authorization": "Bearer "}),
        401,
        "unauthorized",
    )
    token = api_token(client, "susan")
    assert_error(call("/api/users/me/following/nobody", headers=bearer(token)), 404, "not_found")


def test_a_profile_shows_the_email_only_to_its_owner(client: FlaskClient) -> None:
    make_user("susan")
    make_user("bob")
    assert "email" not in client.get("/api/users/susan").get_json()
    bobs = api_token(client, "bob")
    assert "email" not in client.get("/api/users/susan", headers=bearer(bobs)).get_json()
    susans = api_token(client, "susan")
    assert client.get("/api/users/susan", headers=bearer(susans)).get_json()["email"] == (
        "susan@example.com"
    )


def test_a_stale_token_on_a_public_endpoint_is_a_401(client: FlaskClient) -> None:
    make_user("susan")
    assert_error(client.get("/api/users/susan", headers=bearer("stale")), 401, "unauthorized")


@pytest.mark.parametrize("nickname", ["nobody", "nul%00", "x" * 500, "%E2%80%AE"])
def test_unknown_users_are_a_json_404(client: FlaskClient, nickname: str) -> None:
    assert_error(client.get(f"/api/users/{nickname}"), 404, "not_found")
    assert_error(client.get(f"/api/users/{nickname}/followers"), 404, "not_found")


def test_followers_come_in_pages_with_links(client: FlaskClient) -> None:
    star = make_user("star")
    for i in range(5):
        make_user(f"fan{i}").follow(star)
    db.session.commit()
    body = client.get("/api/users/star/followers?per_page=2&page=2").get_json()
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (2, 2, 5, 3)
    assert len(body["items"]) == 2
    assert "email" not in body["items"][0]
    assert body["links"]["next"] == "/api/users/star/followers?page=3&per_page=2"
    assert body["links"]["prev"] == "/api/users/star/followers?page=1&per_page=2"
    assert client.get(body["links"]["next"]).get_json()["links"]["next"] is None


@pytest.mark.parametrize(
    "query",
    ["page=0", "page=x", "per_page=101", "per_page=-1", "page=1e3", "page=99999999999999999999"],
)
def test_bad_paging_is_a_422(client: FlaskClient, query: str) -> None:
    make_user("star")
    assert_error(client.get(f"/api/users/star/followers?{query}"), 422, "invalid_query")


def test_unknown_api_urls_and_methods_answer_in_json(client: FlaskClient) -> None:
    assert_error(client.get("/api/nothing/here"), 404, "not_found")
    response = client.patch("/api/users/susan")
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_the_api_needs_no_csrf_token(tmp_path: object) -> None:
    from tests.support.social_app import build_app

    app = build_app(f"sqlite:///{tmp_path}/csrf.db", migrate=False, WTF_CSRF_ENABLED=True)
    assert app.test_client().post("/api/users", json=SIGN_UP).status_code == 202
