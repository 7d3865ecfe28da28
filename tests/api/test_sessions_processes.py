"""Two real `streetwatch api` processes on one PostgreSQL database and one Redis: a token ended through one is
refused by the other at once, and the login limiter reads X-Forwarded-For only where a proxy is trusted."""

from __future__ import annotations

import subprocess
import sys
import uuid

import httpx

from bus import BusConfig
from models.registry import PROJECT_ROOT
from tests.faults.conftest import ApiProcess, api_process  # noqa: F401  (the fixture, used by name)


def _login(api: ApiProcess, username: str, password: str, **headers: str) -> httpx.Response:
    return httpx.post(f"{api.url}/api/auth/token", data={"username": username, "password": password},
                      headers=headers, timeout=30)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _admin_password(api: ApiProcess) -> str:
    """An admin made through `streetwatch users add`, as an operator would."""
    password = uuid.uuid4().hex
    subprocess.run([sys.executable, "-m", "cli.main", "users", "add", "chief", "--role", "admin", "--password-stdin",
                    "-c", str(api.config)], input=password + "\n", text=True, cwd=PROJECT_ROOT, check=True,
                   capture_output=True)
    return password


def test_a_token_ended_through_one_process_is_refused_by_the_other(api_process, postgres_url: str,  # noqa: F811
                                                                   redis_bus: BusConfig):
    a = api_process(postgres_url, redis_bus, name="api-a", consume=False,
                    auth={"trusted_proxies": ["127.0.0.1"]})
    b = api_process(postgres_url, redis_bus, name="api-b", consume=False)
    admin = _bearer(_login(a, "chief", _admin_password(a)).json()["access_token"])
    made = httpx.post(f"{a.url}/api/users", json={"username": "li.wei", "role": "dispatcher"}, headers=admin,
                      timeout=30)
    assert made.status_code == 201, made.text
    password = made.json()["password"]

    token = _login(a, "li.wei", password).json()["access_token"]
    assert b.get("/api/cases", headers=_bearer(token)).status_code == 200
    assert httpx.patch(f"{a.url}/api/users/li.wei", json={"active": False}, headers=admin,
                       timeout=30).status_code == 200
    assert b.get("/api/cases", headers=_bearer(token)).status_code == 401  # disabled through A, refused by B
    assert a.get("/api/cases", headers=_bearer(token)).status_code == 401

    httpx.patch(f"{a.url}/api/users/li.wei", json={"active": True}, headers=admin, timeout=30)
    token = _login(b, "li.wei", password).json()["access_token"]
    assert a.get("/api/cases", headers=_bearer(token)).status_code == 200
    assert httpx.post(f"{a.url}/api/auth/logout", headers=_bearer(token), timeout=30).status_code == 204
    assert b.get("/api/cases", headers=_bearer(token)).status_code == 401  # logged out on A, refused by B


def test_only_a_trusted_proxy_names_the_client_to_the_login_limiter(api_process, postgres_url: str,  # noqa: F811
                                                                    redis_bus: BusConfig):
    a = api_process(postgres_url, redis_bus, name="api-a", consume=False,
                    auth={"trusted_proxies": ["127.0.0.1"]})  # A sits behind a proxy on loopback
    b = api_process(postgres_url, redis_bus, name="api-b", consume=False)  # B trusts no proxy (the default)
    password = _admin_password(a)
    codes = [_login(a, "chief", f"wrong-{i}", **{"X-Forwarded-For": "127.0.0.2"}).status_code for i in range(15)]
    assert codes[0] == 401 and codes[-1] == 429
    assert _login(a, "chief", password, **{"X-Forwarded-For": "127.0.0.1"}).status_code == 200
    assert _login(b, "chief", password).status_code == 200  # the limiter's counts are shared; 127.0.0.2's are its own
    # B ignores X-Forwarded-For: a client cannot get a fresh count by naming another address each time.
    codes = [_login(b, "nobody", f"wrong-{i}", **{"X-Forwarded-For": f"198.51.100.{i}"}).status_code
             for i in range(15)]
    assert codes[-1] == 429
