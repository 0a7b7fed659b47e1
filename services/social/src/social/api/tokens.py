"""`/api/tokens`: trade a nickname and password for a bearer token, or revoke one."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from social.api import bp
from social.api.auth import basic_auth_user, bearer_token
from social.api.schemas import TokenOut
from social.extensions import db
from social.limits import login_per_account, login_per_client
from social.models import ApiToken


@bp.post("/tokens")
@login_per_client
@login_per_account
def create_token() -> ResponseReturnValue:
    """A new token for HTTP Basic credentials, good for :data:`social.models.TOKEN_LIFETIME`."""
    user = basic_auth_user()
    row, token = ApiToken.issue(user)
    db.session.commit()
    return TokenOut(token=token, expires_at=row.expires_at).model_dump(mode="json"), 200


@bp.delete("/tokens")
def revoke_token() -> ResponseReturnValue:
    """Revoke the bearer token this request carries."""
    token = bearer_token(required=True)
    db.session.delete(token)
    db.session.commit()
    return "", 204
