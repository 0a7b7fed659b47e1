"""The forms of the main pages: a post."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from social.forms import NoControlCharacters
from social.posts import POST_MAX
from social.translate import _l


class PostForm(FlaskForm):  # type: ignore[misc]
    post = TextAreaField(_l("Say something"), validators=[
        DataRequired(message=_l("Write something first.")),
        Length(max=POST_MAX, message=_l("A post has at most %(max)d characters.")),
        NoControlCharacters(),
    ])
