"""New nicknames cannot pass for someone else; existing ones keep working."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from social import users
from social.extensions import db
from social.models import User
from sqlalchemy import insert

from tests.support.social_app import PASSWORD, make_user

CYRILLIC_A = "\u0430"
FULLWIDTH = "\uff53\uff55\uff53\uff41\uff4e"  # "susan"


def sign_up(client: FlaskClient, nickname: str, email: str = "new@example.com") -> tuple[int, dict[str, str]]:
    response = client.post("/api/users", json={"nickname": nickname, "email": email, "password": PASSWORD})
    return response.status_code, (response.get_json() or {}).get("fields", {})


def test_a_nickname_is_stored_nfkc_normalised(client: FlaskClient) -> None:
    assert sign_up(client, "\uff53\uff55\uff53\uff41\uff4e")[0] == 202  # fullwidth "susan"
    assert users.find_by_nickname("susan") is not None
    assert sign_up(client, "SUSAN", "other@example.com") == (409, {"nickname": "already in use"})


@pytest.mark.parametrize(("nickname", "words"), [
    ("bob\u200d", "invisible or joining"),  # zero width joiner
    ("\u3164bob", "invisible or joining"),  # Hangul filler, a "letter" that shows as nothing
    ("bob\u00a0smith", "Use only letters"),  # NFKC makes it a plain space
    ("\u0301bob", "without a letter before it"),
    ("p" + CYRILLIC_A + "ypal", "one script"),
    ("admin", "reserved"),
    ("ADMlN", "reserved"),
    ("Postmaster", "reserved"),
    ("edit_profile", "reserved"),
    ("me", "reserved"),
])
def test_sign_up_refuses_nicknames_that_hide_or_pass_for_another(
    client: FlaskClient, nickname: str, words: str
) -> None:
    status, fields = sign_up(client, nickname)
    assert status == 422
    assert words in fields["nickname"]


def test_a_whole_script_look_alike_of_a_taken_nickname_is_taken(client: FlaskClient) -> None:
    make_user("copo")
    look_alike = "\u0441\u043e\u0440\u043e"  # Cyrillic, one script, looks like "copo"
    assert sign_up(client, look_alike) == (409, {"nickname": "already in use"})
    assert sign_up(client, "rnodern") == (202, {})
    assert sign_up(client, "modern", "x@example.com")[0] == 409


def test_the_page_says_why_a_nickname_is_refused(client: FlaskClient) -> None:
    page = client.post("/auth/register", data={"nickname": "a" + CYRILLIC_A + "b", "email": "n@example.com",
                                               "password": PASSWORD, "password2": PASSWORD})
    assert "keeps to one script" in page.get_data(as_text=True)


@pytest.mark.parametrize("nickname", ["李雷", "ひらがな漢字", "한국어漢字", "Zoë", "Ñandú", "Ἀθηνᾶ", "x_1.a-b"])
def test_real_names_of_many_scripts_are_welcome(client: FlaskClient, nickname: str) -> None:
    assert sign_up(client, nickname, f"{abs(hash(nickname))}@example.com")[0] == 202


def test_accounts_made_before_the_rules_are_still_found_and_log_in(app: Flask, client: FlaskClient) -> None:
    db.session.execute(insert(User.__table__).values(
        nickname=FULLWIDTH, nickname_key=FULLWIDTH, nickname_skeleton=None,
        email="old@example.com", password_hash=make_user("helper").password_hash, unsubscribe_salt="x" * 32))
    db.session.commit()
    old = users.find_by_nickname("\uff53\uff55\uff53\uff41\uff4e")
    assert old is not None and old.email == "old@example.com"
    assert client.post("/auth/login", data={"nickname": "\uff53\uff55\uff53\uff41\uff4e",
                                            "password": PASSWORD}).status_code == 302


def test_about_me_refuses_bidi_overrides_and_c1_controls(client: FlaskClient) -> None:
    for text in ("evil \u202egnp.exe", "isolate \u2066x\u2069", "c1 \u0085 next line"):
        response = client.post("/api/users", json={"nickname": "susan", "email": "s@example.com",
                                                   "password": PASSWORD, "about_me": text})
        assert response.status_code == 422
        assert "about_me" in response.get_json()["fields"]
    page = client.post("/auth/register", data={"nickname": "susan", "email": "s@example.com", "password": PASSWORD,
                                               "password2": PASSWORD, "about_me": "evil \u202egnp.exe"})
    assert "control characters" in page.get_data(as_text=True)
    assert client.post("/api/users", json={"nickname": "susan", "email": "s@example.com", "password": PASSWORD,
                                           "about_me": "Hebrew שלום and English, tabs\tand\nlines"}).status_code == 202


def test_an_internationalised_domain_is_kept_by_idna_2008_and_mailed_as_its_a_label(client: FlaskClient) -> None:
    from social.accounts import mailable_form

    assert sign_up(client, "fass", "X@Faß.de")[0] == 202
    user = users.find_by_nickname("fass")
    assert user is not None
    assert user.email == "x@faß.de"  # IDNA 2003 made it fass.de, another domain
    assert mailable_form(user.email) == "x@xn--fa-hia.de"
    assert sign_up(client, "uni", "ü@faß.de")[0] == 422  # a non-ASCII local part needs SMTPUTF8
