"""Bearer tokens and role checks for every route.

Tokens are short-lived JWTs signed with a key every replica reads from the database, so any
replica accepts any replica's token without a per-request lookup. Browsers also get the token
as an HttpOnly, SameSite=Strict cookie, which is accepted for reads only (images and the live
feed, which cannot send headers); every change needs the Authorization header, so a forged
cross-site request carries no power.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, Request, status
from limits import RateLimitItemPerMinute, storage, strategies

from api.orm import utcnow
from api.services.lifecycle import Role, may
from api.services.users import User

COOKIE = "streetwatch_token"
_READ_METHODS = frozenset({"GET", "HEAD"})
_ALGORITHM = "HS256"


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the token says."""

    username: str
    role: Role


class TokenService:
    def __init__(self, secret: str, ttl: timedelta) -> None:
        self._secret = secret
        self.ttl = ttl

    def issue(self, user: User) -> str:
        now = utcnow()
        claims = {"sub": user.username, "role": user.role.value, "iat": now, "exp": now + self.ttl}
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM)

    def read(self, token: str) -> Principal | None:
        try:
            claims = jwt.decode(token, self._secret, algorithms=[_ALGORITHM], options={"require": ["exp", "sub"]})
            return Principal(str(claims["sub"]), Role(claims["role"]))
        except (jwt.PyJWTError, KeyError, ValueError):
            return None


class LoginLimiter:
    """At most `per_minute` failed logins per address and per account, in Redis so replicas share the count
    (in memory when Redis is not reachable, which still stops a brute force against one replica)."""

    def __init__(self, redis_url: str | None, per_minute: int, namespace: str = "login") -> None:
        self.item = RateLimitItemPerMinute(per_minute)
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

    def blocked(self, *keys: str) -> bool:
        limiter = self._limiter()
        return any(not limiter.test(self.item, self.namespace, key) for key in keys)

    def failed(self, *keys: str) -> None:
        limiter = self._limiter()
        for key in keys:
            limiter.hit(self.item, self.namespace, key)


def _unauthorised(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


def current_principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    token = None
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value:
            raise _unauthorised("需要 Bearer 令牌 / expected 'Authorization: Bearer <token>'")
        token = value.strip()
    elif request.method in _READ_METHODS:
        token = request.cookies.get(COOKIE)
    if not token:
        raise _unauthorised("请先登录 / not logged in: get a token from POST /api/auth/token")
    principal = request.app.state.tokens.read(token)
    if principal is None:
        raise _unauthorised("令牌无效或已过期 / token invalid or expired: log in again")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def optional_principal(request: Request) -> Principal | None:
    """Who is calling, if anyone: for routes that answer everybody but tell admins more."""
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
