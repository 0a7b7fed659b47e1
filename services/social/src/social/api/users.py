"""`/api/users`: sign up, read a profile, list a user's followers."""

from __future__ import annotations

from flask import url_for
from flask.typing import ResponseReturnValue

from social import users
from social.api import bp
from social.api.auth import bearer_token
from social.api.errors import ApiError
from social.api.parsing import json_body, page_args
from social.api.schemas import FollowersPage, PageLinks, SignUpAccepted, UserCreate, UserOut
from social.limits import signup_per_client
from social.models import User, to_the_minute
from social.outbox.events import profile_url
from social.settings import current_settings


@bp.post("/users")
@signup_per_client
def create_user() -> ResponseReturnValue:
    """Sign up: 202 whether or not the address had an account (its owner gets a mail then), 409
    when the nickname is taken or looks like one that is."""
    body = json_body(UserCreate)
    try:
        users.register(nickname=body.nickname, email=body.email, password=body.password, about_me=body.about_me,
                       locale=body.locale)
    except users.NicknameTaken:
        raise ApiError(409, "nickname_taken", "That nickname is taken, or looks like one that is.",
                       fields={"nickname": "already in use"}) from None
    accepted = SignUpAccepted(message=users.signed_up_words(body.nickname, body.email), nickname=body.nickname)
    return accepted.model_dump(), 202


@bp.get("/users/<nickname>")
def get_user(nickname: str) -> ResponseReturnValue:
    """A public profile; the e-mail address too when a token's owner asks about themselves."""
    user = user_or_404(nickname)
    token = bearer_token(required=False)
    return user_json(user, with_email=token is not None and token.user_id == user.id)


@bp.get("/users/<nickname>/followers")
def get_followers(nickname: str) -> ResponseReturnValue:
    user = user_or_404(nickname)
    bearer_token(required=False)  # a stale token is a 401 here too
    page, per_page = page_args()
    followers = user.followers_page(page=page, per_page=per_page)

    def link(to_page: int | None) -> str | None:
        if to_page is None:
            return None
        return url_for("api.get_followers", nickname=user.nickname, page=to_page, per_page=per_page)

    body = FollowersPage(
        items=[_user_out(follower, with_email=False) for follower in followers.items],
        page=page,
        per_page=per_page,
        total=followers.total or 0,
        pages=followers.pages,
        links=PageLinks(
            self=str(link(page)), next=link(followers.next_num), prev=link(followers.prev_num)
        ),
    )
    return body.model_dump(mode="json", exclude_unset=True)


def user_or_404(nickname: str) -> User:
    user = users.find_by_nickname(nickname)
    if user is None:
        raise ApiError(404, "not_found", "There is no user with that nickname.")
    return user


def user_json(user: User, *, with_email: bool) -> dict[str, object]:
    return _user_out(user, with_email=with_email).model_dump(mode="json", exclude_unset=True)


def public_user(user: User) -> UserOut:
    """What anyone may see of `user`, as a list shows it."""
    return _user_out(user, with_email=False)


def _user_out(user: User, *, with_email: bool) -> UserOut:
    fields = public_fields(user, own=with_email)
    if with_email:
        fields["email"] = user.email
    return UserOut.model_validate(fields)


def public_fields(user: User, *, own: bool = False) -> dict[str, object]:
    """What anyone may see of `user`, as :class:`UserOut` names it (`own`: the user themselves)."""
    base_url = current_settings().base_url
    return {
        "id": user.id,
        "nickname": user.nickname,
        "about_me": user.about_me,
        "avatar_url": base_url + user.avatar(128),
        "last_seen": to_the_minute(user.last_seen) if own or user.show_last_seen else None,
        "follower_count": user.follower_count(),
        "following_count": user.following_count(),
        "profile_url": profile_url(base_url, user.nickname),
    }
