"""Form pieces shared by the page blueprints."""

from __future__ import annotations

import re

from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms import Field, Form
from wtforms.fields import SelectChoice
from wtforms.validators import ValidationError

from social.accounts import LOCALES, InvalidEmail
from social.translate import _

#: Text users write may hold tabs and line breaks, nothing else below space (PostgreSQL
#: refuses NUL outright), no C1 control and no bidi embedding, override or isolate (which
#: could turn a link's text around); the API documents the same rule as this pattern.
FREE_TEXT_PATTERN = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u2069]*$"
_free_text = re.compile(FREE_TEXT_PATTERN)


def address_problem(exc: InvalidEmail) -> str:
    """What is wrong with an address, in the page's language: email-validator says it in English
    only, so a page in another language says it in one line of its own."""
    locale = get_locale()
    if exc.library_words and locale is not None and locale.language != "en":
        return _("That is not an e-mail address we can send to; please check it (like name@example.com).")
    return str(exc)


class NoControlCharacters:
    """A WTForms validator for :data:`FREE_TEXT_PATTERN`."""

    def __call__(self, form: Form, field: Field) -> None:
        if field.data and not _free_text.fullmatch(field.data):
            raise ValidationError(
                _("Please remove the control characters (and text-direction overrides) from this text."))


def locale_choices() -> list[SelectChoice]:
    """The languages a user can pick, each named in itself."""
    return [SelectChoice(tag, name) for tag, name in LOCALES.items()]


class EmptyForm(FlaskForm):  # type: ignore[misc]
    """A form with nothing but its CSRF token, for buttons that change state."""
