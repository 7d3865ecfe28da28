"""Accounts: argon2 password hashes, roles, and the token signing key every replica shares.

Each account has a token version. A token carries the version it was issued under and is accepted only while
the account is active and still at that version, checked in the database on every request, so the changes that
must end a login (disable, role change, password change, logout) bump it and every replica refuses old tokens
at once. Nothing is cached: a cache on one replica would let an ended token through there.
"""

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
    token_version: int = 0

    @classmethod
    def of(cls, row: UserRow) -> User:
        return cls(row.id, row.username, Role(row.role), row.display_name, row.active, row.created_at,
                   row.last_login_at, row.token_version or 0)


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
            _end_tokens(row)

    def end_tokens(self, username: str) -> None:
        """Log the account out everywhere: every token issued so far is refused from now on."""
        with self.sessions.begin() as session:
            row = session.scalar(select(UserRow).where(UserRow.username == username))
            if row is not None:
                _end_tokens(row)

    def token_holder(self, username: str, version: int) -> User | None:
        """The account a token of `version` speaks for, if it is active and none of its tokens were ended since."""
        with self.sessions() as session:
            row = session.scalar(select(UserRow).where(UserRow.username == username))
            if row is None or not row.active or (row.token_version or 0) != version:
                return None
            return User.of(row)

    def update(self, username: str, role: Role | None = None, active: bool | None = None) -> User:
        with self.sessions.begin() as session:
            row = session.scalar(select(UserRow).where(UserRow.username == username))
            if row is None:
                raise UserError(f"用户不存在 / no user {username!r}")
            ends_tokens = False
            if role is not None and Role(role).value != row.role:
                row.role, ends_tokens = Role(role).value, True
            if active is not None and active != row.active:
                row.active, ends_tokens = active, True
            if ends_tokens:
                _end_tokens(row)
            session.flush()
            session.refresh(row)
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


def _end_tokens(row: UserRow) -> None:
    """Bump the version in SQL (not read-modify-write), so two changes at once both end the old tokens."""
    row.token_version = UserRow.token_version + 1


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
