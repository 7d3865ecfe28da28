"""Bearer tokens, the login limiter, and the gate every route stands behind.

Tokens are short-lived JWTs signed with a key every replica reads from the database. A token names its account
and the account's token version; on every request the account is read from the database and the token is
accepted only while the account is active and still at that version, and the role is the account's role now,
never the token's. Disabling an account, changing its role or password and logging out bump the version, so
they end the account's tokens at once on every replica (no cache: one would let an ended token through on the
replica that holds it). Browsers also get the token as an HttpOnly, SameSite=Strict cookie, accepted for reads
only (images and the live feed, which cannot send headers); every change needs the Authorization header.

Deny by default: `gate` is a dependency of the whole app, so a route needs a login unless it is listed in
`PUBLIC_ROUTES`; role checks (`Reader`, `Admin`...) come on top of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, Request, status
from limits import RateLimitItemPerMinute, storage, strategies

from api import deps
from api.orm import utcnow
from api.services.lifecycle import Role, may
from api.services.users import User

COOKIE = "streetwatch_token"
_READ_METHODS = frozenset({"GET", "HEAD"})
_ALGORITHM = "HS256"

# Every route anyone may call without a login, and why. Anything else needs one (see `gate`).
PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset({
    ("POST", "/api/auth/token"),  # logging in
    ("GET", "/api/health/live"),  # liveness, for restarts
    ("GET", "/api/health/ready"),  # readiness, for load balancers
    ("GET", "/api/health"),  # status in words for anyone; figures only for an admin (checked there)
    ("GET", "/metrics"),  # its own check: the scraper's api.metrics_token, or an admin login
    ("GET", "/"),  # the dashboard's shell, which shows the login form
})
# Served outside the routers, so the gate never sees them; listed for the record and checked by the tests.
PUBLIC_MOUNTS: frozenset[str] = frozenset({"/ui"})  # the shell's scripts, styles and fonts
PUBLIC_DOCS: frozenset[str] = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})


@dataclass(frozen=True)
class Principal:
    """Who is calling: the account as the database has it now."""

    username: str
    role: Role


@dataclass(frozen=True)
class Claims:
    username: str
    version: int


class TokenService:
    def __init__(self, secret: str, ttl: timedelta) -> None:
        self._secret = secret
        self.ttl = ttl

    def issue(self, user: User) -> str:
        now = utcnow()
        claims = {"sub": user.username, "ver": user.token_version, "iat": now, "exp": now + self.ttl}
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM)

    def read(self, token: str) -> Claims | None:
        """The signed claims of an unexpired token; whether its account still accepts it is for `authenticate`."""
        try:
            claims = jwt.decode(token, self._secret, algorithms=[_ALGORITHM],
                                options={"require": ["exp", "sub", "ver"]})
            version = claims["ver"]
            if not isinstance(version, int) or isinstance(version, bool):
                return None
            return Claims(str(claims["sub"]), version)
        except (jwt.PyJWTError, KeyError, ValueError):
            return None


class LoginLimiter:
    """Failed logins, counted per (address, account) and, more loosely, per address; in Redis so replicas share
    the counts (in memory when Redis is not reachable, which still stops a brute force against one replica).

    Never per account alone: then anyone could lock the admin out by guessing wrong from anywhere. The address
    is the client's as `api.auth.trusted_proxies` allows it to be read (X-Forwarded-For only from those).
    """

    def __init__(self, redis_url: str | None, per_minute: int, namespace: str = "login",
                 per_address_per_minute: int | None = None) -> None:
        self.item = RateLimitItemPerMinute(per_minute)
        self.address_item = RateLimitItemPerMinute(per_address_per_minute or per_minute * 5)
        self.namespace = namespace
        self._memory = strategies.MovingWindowRateLimiter(storage.MemoryStorage())
        self._shared = None
        if redis_url:
            self._shared = strategies.MovingWindowRateLimiter(storage.storage_from_string(
                redis_url, socket_connect_timeout=1, socket_timeout=1))

    def _limiter(self) -> strategies.MovingWindowRateLimiter:
        if self._shared is not None:
            try:
                if self._shared.storage.check():
                    return self._shared
            except Exception:  # a Redis outage must not lock everyone out, nor let everyone through
                pass
        return self._memory

    def _keys(self, address: str, username: str) -> list[tuple[RateLimitItemPerMinute, str]]:
        return [(self.item, f"pair:{address}:{username.lower()}"), (self.address_item, f"ip:{address}")]

    def blocked(self, address: str, username: str) -> bool:
        limiter = self._limiter()
        return any(not limiter.test(item, self.namespace, key) for item, key in self._keys(address, username))

    def failed(self, address: str, username: str) -> None:
        limiter = self._limiter()
        for item, key in self._keys(address, username):
            limiter.hit(item, self.namespace, key)


def token_service(request: Request) -> TokenService:
    return request.app.state.tokens


def login_limiter(request: Request) -> LoginLimiter:
    return request.app.state.login_limiter


Tokens = Annotated[TokenService, Depends(token_service)]
Limiter = Annotated[LoginLimiter, Depends(login_limiter)]


def _unauthorised(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


def bearer_token(request: Request) -> str | None:
    """The token of this request: the Authorization header, or for reads only the browser cookie."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise _unauthorised("需要 Bearer 令牌 / expected 'Authorization: Bearer <token>'")
        return value.strip()
    if request.method in _READ_METHODS:
        return request.cookies.get(COOKIE)
    return None


def current_principal(request: Request) -> Principal:
    """The caller, checked against the account in the database (once per request; later calls reuse it)."""
    known = getattr(request.state, "principal", None)
    if isinstance(known, Principal):
        return known
    token = bearer_token(request)
    if not token:
        raise _unauthorised("请先登录 / not logged in: get a token from POST /api/auth/token")
    claims = token_service(request).read(token)
    user = deps.users(request).token_holder(claims.username, claims.version) if claims is not None else None
    if user is None:
        raise _unauthorised("令牌无效、已过期或已失效，请重新登录 / token invalid, expired or ended (logout, "
                            "disabled account, changed role or password): log in again")
    principal = Principal(user.username, user.role)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def still_logged_in(request: Request) -> bool:
    """Whether this request's token is still good now, read again from the database: for a response that
    outlives the moment it was checked (the live feed), so an ended login ends it too."""
    token = bearer_token(request)
    claims = token_service(request).read(token) if token else None
    return claims is not None and deps.users(request).token_holder(claims.username, claims.version) is not None


def is_public(request: Request) -> bool:
    route = request.scope.get("route")
    method = "GET" if request.method == "HEAD" else request.method
    return route is not None and (method, getattr(route, "path", None)) in PUBLIC_ROUTES


def gate(request: Request) -> None:
    """The app-wide dependency: every route needs a valid login unless it is in PUBLIC_ROUTES."""
    if not is_public(request):
        current_principal(request)


def optional_principal(request: Request) -> Principal | None:
    """Who is calling, if anyone: for public routes that tell admins more."""
    try:
        return current_principal(request)
    except HTTPException:
        return None


def require(action: str):  # type: ignore[no-untyped-def]
    """A dependency that lets the call through only for roles that may do `action`."""

    def check(principal: CurrentPrincipal) -> Principal:
        if not may(principal.role, action):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"权限不足 / the role {principal.role} may not do this ({action})",
            )
        return principal

    check.__name__ = f"require_{action}"
    return check


Reader = Annotated[Principal, Depends(require("read"))]
Dispatcher = Annotated[Principal, Depends(require("transition"))]
Labeller = Annotated[Principal, Depends(require("label"))]
Operator = Annotated[Principal, Depends(require("zones"))]
Admin = Annotated[Principal, Depends(require("admin"))]
