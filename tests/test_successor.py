"""The in-band refresh rule: a newer token is one issued no earlier, same user."""

from __future__ import annotations

from typing import Any

import pytest

from tornado_socketio_jwt.credentials import is_successor

CURRENT = {"sub": "1", "iat": 1000, "exp": 5000}


def test_a_later_token_that_expires_earlier_is_a_successor() -> None:
    assert is_successor(CURRENT, {"sub": "1", "iat": 1001, "exp": 2000})


def test_a_token_issued_in_the_same_second_is_a_successor() -> None:
    assert is_successor(CURRENT, {"sub": "1", "iat": 1000, "exp": 1060})


def test_a_token_issued_earlier_is_not_a_successor_even_if_it_lives_longer() -> None:
    assert not is_successor(CURRENT, {"sub": "1", "iat": 999, "exp": 9000})


def test_another_users_token_is_never_a_successor() -> None:
    assert not is_successor(CURRENT, {"sub": "2", "iat": 2000, "exp": 9000})


def test_sub_is_compared_as_a_string() -> None:
    assert is_successor({"sub": 1, "iat": 1000}, {"sub": "1", "iat": 1000})


@pytest.mark.parametrize("iat", [None, "1001", True, [1001]])
def test_a_new_token_without_a_numeric_iat_is_not_a_successor(iat: Any) -> None:
    new = {"sub": "1", "exp": 9000, **({} if iat is None else {"iat": iat})}
    assert not is_successor(CURRENT, new)


def test_any_token_of_the_user_follows_a_current_one_without_iat() -> None:
    assert is_successor({"sub": "1", "exp": 5000}, {"sub": "1", "iat": 10})
