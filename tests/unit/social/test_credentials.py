"""Which passwords may be chosen, and how long a wrong one takes to be told."""

from __future__ import annotations

import statistics
import time

import pytest
from flask.testing import FlaskClient

from tests.support.social_app import PASSWORD, basic_auth, make_user

SIGN_UP = {"nickname": "susan", "email": "susan.smith@example.com", "password": PASSWORD}


@pytest.mark.parametrize("password", ["password", "12345678", "Qwertyuiop", "iloveyou1"])
def test_sign_up_refuses_a_common_password_naming_the_field(client: FlaskClient, password: str) -> None:
    response = client.post("/api/users", json={**SIGN_UP, "password": password})
    assert response.status_code == 422
    assert "most common" in response.get_json()["fields"]["password"]


@pytest.mark.parametrize("password", ["SusanSusan", "susan.smith@example.com", "Susan.Smith"])
def test_sign_up_refuses_a_password_that_is_the_nickname_or_the_address(client: FlaskClient, password: str) -> None:
    response = client.post("/api/users", json={**SIGN_UP, "nickname": "SusanSusan", "password": password})
    assert response.status_code == 422
    assert response.get_json()["fields"]["password"] == "A password cannot be your nickname or your e-mail address."


def test_the_sign_up_page_says_why_a_password_is_refused(client: FlaskClient) -> None:
    page = client.post("/auth/register", data={"nickname": "susan", "email": "susan@example.com",
                                               "password": "letmein1", "password2": "letmein1"})
    assert page.status_code == 200
    assert "one of the most common ones" in page.get_data(as_text=True)


def test_an_unknown_nickname_costs_the_token_endpoint_as_long_as_a_wrong_password(client: FlaskClient) -> None:
    make_user("susan")

    def seconds(nickname: str) -> float:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            assert client.post("/api/tokens", headers=basic_auth(nickname, "wrong password")).status_code == 401
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    known, unknown = seconds("susan"), seconds("nobody")
    assert unknown > known * 0.5, (known, unknown)
