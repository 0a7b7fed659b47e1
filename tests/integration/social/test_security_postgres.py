"""Hardening on PostgreSQL and Redis: rate limit counts shared exactly by every worker, the
migration's look-alike keys, and an account deleted with everything that hangs off it."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from social.extensions import db
from social.follows import follow
from social.limitstore import DatabaseStorage, storage_uri
from social.models import Follow, User
from social.nicknames import nickname_skeleton
from sqlalchemy import create_engine, func, select, text
from structlog.testing import capture_logs

from tests.support.social_app import PASSWORD, api_token, basic_auth, bearer, build_app, make_user

REDIS_URL = "redis://127.0.0.1:6379/0"
CYRILLIC_A = "\u0430"


def test_counters_in_the_database_count_every_hit_of_every_process_exactly(app: Flask, postgres_url: str) -> None:
    engines = [create_engine(postgres_url) for _ in range(2)]  # two workers, each its own pool
    storages = [DatabaseStorage(storage_uri(engine)) for engine in engines]

    def hit(storage: DatabaseStorage) -> None:
        for _ in range(50):
            storage.incr("login:susan", 60)

    threads = [threading.Thread(target=hit, args=(storage,)) for storage in storages for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert storages[0].get("login:susan") == storages[1].get("login:susan") == 200
    for engine in engines:
        engine.dispose()


def test_an_account_s_budget_is_shared_by_two_web_processes(postgres_url: str) -> None:
    first = build_app(postgres_url, migrate=True, login_account_rate_limit="2 per hour")
    with first.app_context():
        make_user("susan")
    second = build_app(postgres_url, migrate=False, login_account_rate_limit="2 per hour")
    for app in (first, second):
        assert app.test_client().post("/api/tokens", headers=basic_auth("susan", "wrong")).status_code == 401
    assert second.test_client().post("/api/tokens", headers=basic_auth("susan")).status_code == 429


@pytest.fixture
def redis_url() -> Iterator[str]:
    """Redis at 127.0.0.1:6379 (fails, not skips, when it is down), its limit keys removed after."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is not answering at {REDIS_URL} ({exc}); start it with `redis-server --daemonize yes`",
                    pytrace=False)
    yield REDIS_URL
    for key in client.scan_iter("LIMITS:*"):
        client.delete(key)


def test_with_ratelimit_storage_url_the_counts_are_kept_in_redis(postgres_url: str, redis_url: str) -> None:
    app = build_app(postgres_url, migrate=True, login_account_rate_limit="2 per hour",
                    ratelimit_storage_url=redis_url)
    nickname = f"r{uuid.uuid4().hex[:8]}"
    with app.app_context():
        make_user(nickname)
    client = app.test_client()
    for _ in range(2):
        assert client.post("/api/tokens", headers=basic_auth(nickname, "wrong")).status_code == 401
    assert client.post("/api/tokens", headers=basic_auth(nickname)).status_code == 429
    assert any(b"login-account" in key for key in redis.Redis.from_url(redis_url).scan_iter("LIMITS:*"))
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM rate_limits")).scalar_one() == 0


def test_the_migration_gives_look_alike_keys_keeps_every_account_working_and_reports_collisions(
    postgres_url: str,
) -> None:
    from social.app import create_app
    from social.settings import SocialSettings

    app = create_app(SocialSettings(database_url=postgres_url, secret_key="test"), TESTING=True)  # type: ignore[call-arg]
    with app.app_context():
        upgrade(revision="0002_mail")
        hashed = User(nickname="x", email="x@example.com")
        hashed.set_password(PASSWORD)
        for n, nickname in enumerate(["admin", CYRILLIC_A + "dmin", "Zoë"]):
            db.session.execute(text(
                "INSERT INTO users (nickname, nickname_key, email, password_hash, locale, last_seen, created_at, "
                "unsubscribe_salt) VALUES (:n, :k, :e, :h, 'en', now(), now(), :s)"),
                {"n": nickname, "k": nickname.casefold(), "e": f"u{n}@example.com", "h": hashed.password_hash,
                 "s": f"{n:032d}"})
        db.session.commit()
        with capture_logs() as logs:
            upgrade()
        keys = db.session.execute(text("SELECT nickname, nickname_skeleton FROM users ORDER BY id")).all()
        assert [key for _, key in keys] == [nickname_skeleton("admin"), None, nickname_skeleton("Zoë")]
        assert [log["event"] for log in logs if log.get("log_level") == "warning"] == ["nickname_looks_like_another"]
    for nickname in ("admin", CYRILLIC_A + "dmin", "Zoë"):
        assert api_token(app.test_client(), nickname)


def test_deleting_an_account_removes_its_follows_and_tokens_on_postgres(app: Flask, client: FlaskClient) -> None:
    susan, bob = make_user("susan"), make_user("bob")
    follow(susan, bob)
    follow(bob, susan)
    token = api_token(client, "susan")
    response = client.delete("/api/users/me", headers=bearer(token), json={"password": PASSWORD})
    assert response.status_code == 204
    assert db.session.scalar(select(func.count()).select_from(Follow)) == 0
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
