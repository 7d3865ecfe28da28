"""Accounts: argon2 password hashes, roles, and the token signing key every replica shares."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from api.orm import SettingRow, UserRow, utcnow
from api.services.lifecycle import Role

USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
MIN_PASSWORD = 10
_HASHER = PasswordHasher()
# A hash to verify against when the user does not exist, so timing does not tell which names exist.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


class UserError(ValueError):
    """A bad name, role or password; the message says which and why."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: Role
    display_name: str | None
    active: bool
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, row: UserRow) -> User:
        return cls(row.id, row.username, Role(row.role), row.display_name, row.active, row.created_at,
                   row.last_login_at)


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def check_password_strength(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"密码太短 / password too short: at least {MIN_PASSWORD} characters")
    if password.lower() == username.lower() or len(set(password)) < 5:
        raise UserError("密码太简单 / password too easy to guess")


class UserStore:
    def __init__(self, sessions: sessionmaker) -> None:
        self.sessions = sessions

    def add(self, username: str, role: Role | str, password: str, display_name: str | None = None) -> User:
        if not USERNAME.match(username):
            raise UserError("用户名只能包含字母、数字和 _ . @ - / a user name is 2-64 of A-Z a-z 0-9 _ . @ -")
        try:
            role = Role(role)
        except ValueError:
            raise UserError(f"未知角色 unknown role {role!r}; one of {', '.join(r.value for r in Role)}") from None
        check_password_strength(password, username)
        row = UserRow(username=username, password_hash=_HASHER.hash(password), role=role.value,
                      display_name=display_name, active=True, created_at=utcnow())
        try:
            with self.sessions.begin() as session:
                session.add(row)
        except IntegrityError:
            raise UserError(f"用户已存在 / user {username!r} already exists") from None
        return User.of(row)

    def set_password(self, username: str, password: str) -> None:
        check_password_strength(password, username)
        with self.sessions.begin() as session:
            row = session.scalar(select(UserRow).where(UserRow.username == username))
            if row is None:
                raise UserError(f"用户不存在 / no user {username!r}")
            row.password_hash = _HASHER.hash(password)

    def update(self, username: str, role: Role | None = None, active: bool | None = None) -> User:
        with self.sessions.begin() as session:
            row = session.scalar(select(UserRow).where(UserRow.username == username))
            if row is None:
                raise UserError(f"用户不存在 / no user {username!r}")
            if role is not None:
                row.role = Role(role).value
            if active is not None:
                row.active = active
            return User.of(row)

    def authenticate(self, username: str, password: str) -> User | None:
        """The user when the password is right and the account active; None otherwise, in similar time."""
        with self.sessions.begin() as session:
            row = session.scalar(select(UserRow).where(UserRow.username == username))
            try:
                _HASHER.verify(row.password_hash if row is not None else _DUMMY_HASH, password)
            except (VerificationError, InvalidHashError):
                return None
            if row is None or not row.active:
                return None
            if _HASHER.check_needs_rehash(row.password_hash):
                row.password_hash = _HASHER.hash(password)
            row.last_login_at = utcnow()
            return User.of(row)

    def get(self, username: str) -> User | None:
        with self.sessions() as session:
            row = session.scalar(select(UserRow).where(UserRow.username == username))
            return User.of(row) if row is not None else None

    def list(self) -> list[User]:
        with self.sessions() as session:
            return [User.of(r) for r in session.scalars(select(UserRow).order_by(UserRow.username))]

    def count(self) -> int:
        with self.sessions() as session:
            return int(session.scalar(select(func.count(UserRow.id))) or 0)


def shared_secret(sessions: sessionmaker, key: str = "token_signing_key") -> str:
    """A random key made once and kept in the database, so every API replica signs and checks alike."""
    with sessions.begin() as session:
        row = session.get(SettingRow, key)
        if row is not None:
            return row.value
    try:
        with sessions.begin() as session:
            session.add(SettingRow(key=key, value=secrets.token_urlsafe(48)))
    except IntegrityError:
        pass  # another replica made it first: use theirs
    with sessions() as session:
        row = session.get(SettingRow, key)
        assert row is not None
        return row.value
