"""/api/auth: log in for a bearer token (OAuth2 password form), see who you are, log out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, Response, status

from api.auth import COOKIE, CurrentPrincipal, Limiter, Tokens
from api.deps import ConfigDep, UsersDep
from api.errors import COMMON, PROTECTED, ErrorOut
from api.schemas import TokenOut

router = APIRouter(prefix="/api/auth", tags=["auth 登录"])


@router.post("/token", response_model=TokenOut, responses={
    **COMMON, 401: {"model": ErrorOut, "description": "Wrong name or password"},
    429: {"model": ErrorOut, "description": "Too many failed logins"}})
def login(
    request: Request,
    response: Response,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=256)],
    users: UsersDep,
    tokens: Tokens,
    limiter: Limiter,
    config: ConfigDep,
) -> TokenOut:
    """登录 / log in: OAuth2 password form → `{"access_token": ..., "token_type": "bearer"}`. Failed logins are
    limited per address and account together (and per address), so nobody can lock another person out."""
    # The peer, or the client a trusted proxy (api.auth.trusted_proxies) names in X-Forwarded-For.
    address = request.client.host if request.client else "unknown"
    if limiter.blocked(address, username):
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "登录失败次数过多，请稍后再试 / too many failed "
                            "logins: wait a minute", headers={"Retry-After": "60"})
    user = users.authenticate(username, password)
    if user is None:
        limiter.failed(address, username)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "用户名或密码错误 / wrong user name or password",
                            headers={"WWW-Authenticate": "Bearer"})
    token = tokens.issue(user)
    ttl = int(tokens.ttl.total_seconds())
    response.set_cookie(COOKIE, token, max_age=ttl, httponly=True, samesite="strict",
                        secure=config.auth.secure_cookie, path="/")
    response.headers["Cache-Control"] = "no-store"
    return TokenOut(access_token=token, expires_in=ttl, username=user.username, role=user.role.value)


@router.get("/me", responses=PROTECTED)
def me(principal: CurrentPrincipal) -> dict[str, str]:
    """当前用户 / who this token belongs to, and the role the dashboard shows actions for."""
    return {"username": principal.username, "role": principal.role.value}


@router.post("/logout", status_code=204, responses=PROTECTED)
def logout(principal: CurrentPrincipal, users: UsersDep) -> Response:
    """退出 / log out everywhere: every token of this account ends now, on every replica, and the browser
    cookie is dropped."""
    users.end_tokens(principal.username)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/")
    return response
