"""The load generator's users send the cookies a browser would send back: the session and the pre-session CSRF
cookie the server set (without it, the server makes and sets a new one on every request, which browsers never
cause)."""

from __future__ import annotations

from bench.loadgen import User


def test_a_signed_in_user_sends_back_both_cookies() -> None:
    user = User(0, "a@example.org", None, cookie="s", csrf="t", csrf_cookie="c")
    assert user.headers(api=False) == {"cookie": "st_session=s; st_csrf=c"}
    assert User(1, "b@example.org", None, cookie="s").headers(api=False) == {"cookie": "st_session=s"}
    assert User(2, "c@example.org", None).headers(api=False) == {}
    assert User(3, "d@example.org", None, cookie="s", token="k").headers(api=True) == {"authorization": "Bearer k"}
