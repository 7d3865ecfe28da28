"""Logging in, and a walk over every route: nothing changes without a token and the right role."""

from __future__ import annotations

import re
from collections.abc import Iterator

from fastapi import APIRouter, FastAPI
from starlette.routing import Mount

from api import auth
from tests.api_fixture import Api, password_for

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
# Routes anyone may call: logging in, the service's own liveness and status, the dashboard's shell, the docs.
PUBLIC = {("POST", "/api/auth/token"), ("GET", "/api/health"), ("GET", "/api/health/live"),
          ("GET", "/api/health/ready"), ("GET", "/"), ("GET", "/openapi.json"), ("GET", "/docs"),
          ("GET", "/docs/oauth2-redirect"), ("GET", "/redoc")}
# Past the gate, but with a check of its own: a scraper's token or an admin login.
OWN_CHECK = {("GET", "/metrics")}
# Routes every logged-in user may call whatever the role: their own session.
SELF_SERVICE = {("POST", "/api/auth/logout")}


def app_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path) of every route the app serves, however FastAPI nests included routers."""
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        for effective in (contexts() if callable(contexts) else [route]):
            path = getattr(effective, "path", None)
            for method in getattr(effective, "methods", None) or ():
                if path is not None and method != "HEAD":
                    yield method, path


def concrete(path: str) -> str:
    """A path with every parameter filled by a value that passes its own validation."""
    path = path.replace("{relative:path}", "evidence/none.jpg").replace("{job_id:whatif_job}", "0" * 32)
    return re.sub(r"\{[^}]+\}", lambda m: "viewer" if "username" in m.group(0) else (
        "cam-a" if "camera" in m.group(0) else "1"), path)


def test_the_walk_finds_the_routes_it_must_check(api: Api):
    routes = set(app_routes(api.app))
    assert ("POST", "/api/cases/{case_id}/transitions") in routes
    assert ("POST", "/api/users") in routes and ("PATCH", "/api/users/{username}") in routes
    assert ("GET", "/api/live") in routes and ("GET", "/media/{relative:path}") in routes


def test_every_mutating_route_needs_a_token_and_a_role_that_may(api: Api):
    checked = 0
    for method, path in sorted(app_routes(api.app)):
        if method not in MUTATING or (method, path) in PUBLIC:
            continue
        url = concrete(path)
        anonymous = api.client.request(method, url, json={})
        assert anonymous.status_code == 401, (method, path, anonymous.status_code)
        assert anonymous.headers.get("www-authenticate") == "Bearer"
        if (method, path) in SELF_SERVICE:
            continue
        viewer = api.client.request(method, url, json={}, headers=api.auth("viewer"))
        assert viewer.status_code == 403, (method, path, viewer.status_code)
        checked += 1
    assert checked >= 3


def test_every_read_needs_a_token_too(api: Api):
    for method, path in sorted(app_routes(api.app)):
        if method != "GET" or (method, path) in PUBLIC:
            continue
        assert api.client.get(concrete(path)).status_code == 401, path


def test_the_public_routes_are_exactly_the_listed_ones(api: Api):
    """Deny by default: every route the app serves answers 401 to an anonymous caller, except those listed."""
    assert {*auth.PUBLIC_ROUTES, *(("GET", p) for p in auth.PUBLIC_DOCS)} == PUBLIC | OWN_CHECK
    answered = set()
    for method, path in sorted(app_routes(api.app)):
        reply = api.client.request(method, concrete(path), **({"json": {}} if method in MUTATING else {}))
        if reply.status_code != 401:
            answered.add((method, path))
    assert answered == PUBLIC
    mounts = {route.path for route in api.app.routes if isinstance(route, Mount)}
    assert mounts == set(auth.PUBLIC_MOUNTS) == {"/ui"}  # the shell's own scripts and styles, which log in
    assert api.client.get("/ui/index.html").status_code == 200


def test_a_new_route_without_any_guard_needs_a_login(api: Api):
    """A route someone adds and forgets to guard is not public: the app's gate stands in front of it."""
    extra = APIRouter(prefix="/api/forgotten")

    @extra.get("/report")
    def report() -> dict[str, str]:
        return {"secret": "only for staff"}

    @extra.post("/purge")
    def purge() -> dict[str, str]:
        return {"done": "yes"}

    api.app.include_router(extra)

    @api.app.get("/api/added-later")
    def added_later() -> dict[str, str]:
        return {"secret": "only for staff"}

    for method, path in (("GET", "/api/forgotten/report"), ("POST", "/api/forgotten/purge"),
                         ("GET", "/api/added-later")):
        anonymous = api.client.request(method, path)
        assert anonymous.status_code == 401 and "secret" not in anonymous.text, (method, path)
        assert api.client.request(method, path, headers={"Authorization": "Bearer forged"}).status_code == 401
        assert api.client.request(method, path, headers=api.auth("viewer")).status_code == 200, (method, path)


def test_login_gives_a_bearer_token_and_wrong_passwords_get_401_then_429(api: Api):
    ok = api.client.post("/api/auth/token", data={"username": "viewer", "password": password_for("viewer")})
    assert ok.status_code == 200 and ok.json()["token_type"] == "bearer" and ok.json()["role"] == "viewer"
    assert ok.headers["cache-control"] == "no-store"
    me = api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {ok.json()['access_token']}"})
    assert me.json() == {"username": "viewer", "role": "viewer"}
    for bad in ({"username": "viewer", "password": "wrong-password"}, {"username": "nobody", "password": "x" * 12}):
        assert api.client.post("/api/auth/token", data=bad).status_code == 401
    assert api.client.get("/api/cases", headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    assert api.client.get("/api/cases", headers={"Authorization": "Basic dmlld2VyOng="}).status_code == 401
    limit = api.app.state.api_config.auth.login_attempts_per_minute
    codes = [api.client.post("/api/auth/token", data={"username": "admin", "password": f"guess-{i}"}).status_code
             for i in range(limit + 2)]
    assert codes[:limit - 2] == [401] * (limit - 2) and codes[-1] == 429
    # Locked out for now, even with the right password: the lock is per address and per account.
    right = api.client.post("/api/auth/token", data={"username": "admin", "password": password_for("admin")})
    assert right.status_code == 429 and right.headers["retry-after"] == "60"


def test_the_browser_cookie_reads_but_never_changes(api: Api):
    api.publish_and_wait([])
    login = api.client.post("/api/auth/token", data={"username": "dispatcher", "password": password_for("dispatcher")})
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert api.client.get("/api/cases").status_code == 200  # the cookie works for reads (images, live feed)
    forged = api.client.post("/api/cases/1/transitions", json={"to": "confirmed"})
    assert forged.status_code == 401  # a change needs the Authorization header
    api.client.cookies.clear()


def test_admins_manage_accounts_and_a_disabled_account_cannot_log_in(api: Api):
    made = api.client.post("/api/users", json={"username": "li.wei", "role": "dispatcher"}, headers=api.auth("admin"))
    assert made.status_code == 201 and len(made.json()["password"]) >= 12
    password = made.json()["password"]
    again = api.client.post("/api/users", json={"username": "li.wei", "role": "viewer"}, headers=api.auth("admin"))
    assert again.status_code == 409
    weak = api.client.post("/api/users", json={"username": "zhao", "role": "viewer", "password": "aaaaaaaaaa"},
                           headers=api.auth("admin"))
    assert weak.status_code == 422
    assert api.client.post("/api/auth/token", data={"username": "li.wei", "password": password}).status_code == 200
    api.client.patch("/api/users/li.wei", json={"active": False}, headers=api.auth("admin"))
    assert api.client.post("/api/auth/token", data={"username": "li.wei", "password": password}).status_code == 401
    listed = {u["username"]: u for u in api.get("/api/users", role="admin").json()}
    assert listed["li.wei"]["active"] is False and "password" not in listed["li.wei"]
    assert not any("hash" in key for key in listed["admin"])
