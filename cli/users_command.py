"""`streetwatch users`: accounts for the dashboard and the API (add, list, set a password, disable).

Passwords are read from standard input (`--password-stdin`) or generated and printed once; they are
never taken on the command line, where the shell history and `ps` would keep them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.services.lifecycle import Role
from cli.common import load_or_exit
from settings import DEMO_CONFIG

if TYPE_CHECKING:
    from api.services.users import UserError, UserStore

users_app = typer.Typer(no_args_is_help=True, help="用户 Accounts: add, list, set a password, disable.")

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="YAML configuration (its api.database_url).")]
PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input.")]


def _store(config: Path) -> UserStore:
    from api.db import make_engine, migrate, session_factory
    from api.services.users import UserStore

    settings = load_or_exit(config)
    engine = make_engine(settings.api.database_url)
    migrate(engine)
    return UserStore(session_factory(engine))


def _password(from_stdin: bool) -> tuple[str, bool]:
    """(password, generated)."""
    from api.services.users import generate_password

    if not from_stdin:
        return generate_password(), True
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        typer.echo("错误 error: no password on standard input", err=True)
        raise typer.Exit(2)
    return password, False


def _fail(exc: UserError) -> None:
    typer.echo(f"错误 error: {exc}", err=True)
    raise typer.Exit(2)


@users_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="User name (2-64 of A-Z a-z 0-9 _ . @ -).")],
    role: Annotated[Role, typer.Option("--role", "-r", help="viewer, dispatcher, operator or admin.")],
    display_name: Annotated[str | None, typer.Option("--display-name", help="How the dashboard shows them.")] = None,
    password_stdin: PasswordStdin = False,
    config: ConfigOption = DEMO_CONFIG,
) -> None:
    """Create an account; without --password-stdin a password is generated and printed once."""
    from api.services.users import UserError

    password, generated = _password(password_stdin)
    try:
        user = _store(config).add(name, role, password, display_name)
    except UserError as exc:
        _fail(exc)
        return
    typer.echo(f"已创建 created: {user.username} ({user.role})")
    if generated:
        typer.echo(f"密码 password (shown once): {password}")


@users_app.command("passwd")
def passwd(
    name: Annotated[str, typer.Argument(help="User name.")],
    password_stdin: PasswordStdin = False,
    config: ConfigOption = DEMO_CONFIG,
) -> None:
    """Set a new password (generated and printed once without --password-stdin)."""
    from api.services.users import UserError

    password, generated = _password(password_stdin)
    try:
        _store(config).set_password(name, password)
    except UserError as exc:
        _fail(exc)
        return
    typer.echo(f"已更新 password changed for {name}")
    if generated:
        typer.echo(f"密码 password (shown once): {password}")


@users_app.command("list")
def list_users(config: ConfigOption = DEMO_CONFIG) -> None:
    """Every account with its role and state."""
    for user in _store(config).list():
        state = "active" if user.active else "disabled"
        typer.echo(f"{user.username:24} {user.role.value:10} {state:8} {user.display_name or ''}")


@users_app.command("disable")
def disable(name: Annotated[str, typer.Argument(help="User name.")], config: ConfigOption = DEMO_CONFIG) -> None:
    """Stop an account from logging in (its current token lapses at expiry)."""
    from api.services.users import UserError

    try:
        _store(config).update(name, active=False)
    except UserError as exc:
        _fail(exc)
        return
    typer.echo(f"已停用 disabled: {name}")
