"""/api/users: accounts and roles, for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Admin
from api.deps import UsersDep
from api.errors import CONFLICT, NOT_FOUND, PROTECTED, unprocessable
from api.schemas import UtcDatetime
from api.services.lifecycle import Role
from api.services.users import USERNAME, User, UserError, generate_password

router = APIRouter(prefix="/api/users", tags=["users 用户"], responses=PROTECTED)

Username = Annotated[str, Path(pattern=USERNAME.pattern)]


class UserOut(BaseModel):
    username: str
    role: Role
    display_name: str | None
    active: bool
    created_at: UtcDatetime
    last_login_at: UtcDatetime | None

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(username=user.username, role=user.role, display_name=user.display_name, active=user.active,
                   created_at=user.created_at, last_login_at=user.last_login_at)


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(pattern=USERNAME.pattern)
    role: Role
    display_name: str | None = Field(None, max_length=128)
    password: str | None = Field(None, min_length=10, max_length=256,
                                 description="Leave out to have one generated and returned once.")


class UserCreated(UserOut):
    password: str | None = Field(description="The generated password, shown this once; null when one was given.")


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    active: bool | None = None


@router.get("", response_model=list[UserOut])
def list_users(users: UsersDep, _admin: Admin) -> list[UserOut]:
    return [UserOut.of(u) for u in users.list()]


@router.post("", response_model=UserCreated, status_code=201, responses=CONFLICT)
def add_user(body: UserIn, users: UsersDep, _admin: Admin) -> UserCreated:
    """新建账号 / create an account; a generated password is returned once and never stored in clear."""
    password = body.password or generate_password()
    try:
        user = users.add(body.username, body.role, password, body.display_name)
    except UserError as exc:
        if "exists" in str(exc):
            raise HTTPException(409, str(exc)) from None
        raise unprocessable(("body", "password" if "password" in str(exc) else "username"), str(exc)) from None
    return UserCreated(**UserOut.of(user).model_dump(), password=None if body.password else password)


@router.patch("/{username}", response_model=UserOut, responses=NOT_FOUND)
def change_user(username: Username, body: UserPatch, users: UsersDep, admin: Admin) -> UserOut:
    """改角色或停用 / change a role, or disable an account: either ends the account's tokens at once, on every
    replica (the user logs in again, with the new role)."""
    if username == admin.username and body.active is False:
        raise unprocessable(("body", "active"), "不能停用自己 / you cannot disable your own account")
    try:
        return UserOut.of(users.update(username, body.role, body.active))
    except UserError as exc:
        raise HTTPException(404, str(exc)) from None

