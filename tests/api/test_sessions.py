"""Tokens end when the account changes: disable, demotion, password change and logout refuse an old token at
once; failed logins from one address never lock an account for anyone else (directly or through a proxy)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi.testclient import TestClient

from tests.api.test_live import Listener
from tests.api_fixture import Api, MakeApi, password_for
from tests.helpers import make_event, wait_until


def _account(api: Api, username: str, role: str) -> tuple[str, str]:
    """A new account made by the admin through the API: (its password, a fresh token of it)."""
    made = api.client.post("/api/users", json={"username": username, "role": role}, headers=api.auth("admin"))
    assert made.status_code == 201, made.text
    password = made.json()["password"]
    return password, _login(api.client, username, password).json()["access_token"]


def _login(client: Any, username: str, password: str, **headers: str) -> Any:
    return client.post("/api/auth/token", data={"username": username, "password": password}, headers=headers)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_disabled_dispatchers_token_no_longer_reads_cases(api: Api):
    _password, token = _account(api, "li.wei", "dispatcher")
    assert api.client.get("/api/cases", headers=_bearer(token)).status_code == 200
    disabled = api.client.patch("/api/users/li.wei", json={"active": False}, headers=api.auth("admin"))
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    refused = api.client.get("/api/cases", headers=_bearer(token))
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    api.client.cookies.set("streetwatch_token", token)
    assert api.client.get("/api/cases").status_code == 401  # nor its cookie
    api.client.cookies.clear()
    # Enabled again, the old token stays ended: only a new login works.
    api.client.patch("/api/users/li.wei", json={"active": True}, headers=api.auth("admin"))
    assert api.client.get("/api/cases", headers=_bearer(token)).status_code == 401


def test_an_admin_demoted_to_viewer_no_longer_lists_users(api: Api):
    password, token = _account(api, "wang.fang", "admin")
    assert api.client.get("/api/users", headers=_bearer(token)).status_code == 200
    demoted = api.client.patch("/api/users/wang.fang", json={"role": "viewer"}, headers=api.auth("admin"))
    assert demoted.status_code == 200 and demoted.json()["role"] == "viewer"
    assert api.client.get("/api/users", headers=_bearer(token)).status_code == 401
    again = _login(api.client, "wang.fang", password).json()
    assert again["role"] == "viewer"
    assert api.client.get("/api/users", headers=_bearer(again["access_token"])).status_code == 403
    assert api.client.get("/api/auth/me", headers=_bearer(again["access_token"])).json()["role"] == "viewer"


def test_logout_ends_the_token_and_every_other_token_of_the_account(api: Api):
    password, token = _account(api, "zhao.lei", "viewer")
    other = _login(api.client, "zhao.lei", password).json()["access_token"]  # a second browser
    assert api.client.get("/api/cases", headers=_bearer(token)).status_code == 200
    assert api.client.post("/api/auth/logout", headers=_bearer(token)).status_code == 204
    for ended in (token, other):
        assert api.client.get("/api/cases", headers=_bearer(ended)).status_code == 401
        assert api.client.get("/api/auth/me", headers=_bearer(ended)).status_code == 401
    assert api.client.post("/api/auth/logout", headers=_bearer(token)).status_code == 401
    fresh = _login(api.client, "zhao.lei", password).json()["access_token"]
    assert api.client.get("/api/cases", headers=_bearer(fresh)).status_code == 200
    assert api.get("/api/cases", role="viewer").status_code == 200  # other accounts are untouched


def test_a_password_change_ends_old_tokens(api: Api):
    _password, token = _account(api, "sun.li", "operator")
    assert api.client.get("/api/cases", headers=_bearer(token)).status_code == 200
    api.app.state.users.set_password("sun.li", "a-new-password-2026")  # what `streetwatch users passwd` does
    assert api.client.get("/api/cases", headers=_bearer(token)).status_code == 401
    renewed = _login(api.client, "sun.li", "a-new-password-2026").json()["access_token"]
    assert api.client.get("/api/cases", headers=_bearer(renewed)).status_code == 200


def test_an_open_live_feed_ends_when_its_account_is_disabled(make_api: MakeApi):
    api = make_api(serve=True, verification={"enabled": False})
    listener = Listener(api)  # the viewer's feed, open before the account changes
    wait_until(lambda: listener.received, what="the hello message")
    assert api.client.patch("/api/users/viewer", json={"active": False}, headers=api.auth("admin")).status_code == 200
    api.publish_and_wait([make_event("cam-a", "gate", "illegal_parking_motor", 1.0)])
    wait_until(lambda: not listener.thread.is_alive(), what="the feed to end")
    assert listener.changes() == []


def _guesses(client: TestClient, count: int, username: str = "admin", **headers: str) -> list[int]:
    return [_login(client, username, f"guess-{i}-wrong", **headers).status_code for i in range(count)]


def test_failures_from_one_address_do_not_lock_the_account_for_others(api: Api):
    attacker = TestClient(api.app, client=("127.0.0.2", 40000))
    codes = _guesses(attacker, 15)
    assert codes[0] == 401 and codes[-1] == 429  # that address is held back...
    assert _login(attacker, "admin", password_for("admin")).status_code == 429
    admin = TestClient(api.app, client=("127.0.0.1", 40001))
    assert _login(admin, "admin", password_for("admin")).status_code == 200  # ...the admin elsewhere is not


def test_one_address_guessing_many_accounts_is_held_back_too(make_api: MakeApi):
    api = make_api(auth={"login_attempts_per_minute": 3, "login_attempts_per_address_per_minute": 6})
    sprayer = TestClient(api.app, client=("127.0.0.5", 40000))
    codes = [code for name in ("viewer", "operator", "dispatcher") for code in _guesses(sprayer, 2, name)]
    assert codes == [401] * 6
    assert _login(sprayer, "admin", "guess-wrong").status_code == 429  # a fourth account, same address


def test_behind_a_trusted_proxy_the_forwarded_client_is_the_one_limited(make_api: MakeApi):
    api = make_api(auth={"trusted_proxies": ["10.0.0.0/24"]})
    proxy = TestClient(api.app, client=("10.0.0.7", 40000))
    assert _guesses(proxy, 15, **{"X-Forwarded-For": "127.0.0.2"})[-1] == 429
    assert _login(proxy, "admin", password_for("admin"), **{"X-Forwarded-For": "127.0.0.1"}).status_code == 200
    # A peer that is not a trusted proxy cannot pick its address: its X-Forwarded-For is ignored.
    stranger = TestClient(api.app, client=("192.0.2.9", 40000))
    codes = [_login(stranger, "admin", f"wrong-{i}", **{"X-Forwarded-For": f"198.51.100.{i}"}).status_code
             for i in range(15)]
    assert codes[-1] == 429


def test_a_token_naming_no_account_is_refused(api: Api):
    """Signed right, but for an account that does not exist (deleted, or renamed since)."""
    ghost = replace(api.app.state.users.get("viewer"), username="nobody")
    assert api.client.get("/api/cases", headers=_bearer(api.app.state.tokens.issue(ghost))).status_code == 401
