"""``connector user ...``: the node's operator accounts (docs/operator-guide.md, "Users and roles")."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..services import accounts
from .common import die
from .node import DataDir, command_context

user_app = typer.Typer(help="The node's users: people who log in to the console and the operator API.")
console = Console()

Login = Annotated[str, typer.Argument(help="The user's login (case does not matter)")]
RoleOption = Annotated[str, typer.Option("--role", help="viewer, editor, admin or verifier")]
PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from standard input (first line) instead of a prompt"),
]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            die("no password on standard input")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        die("no terminal to prompt for the password: use --password-stdin")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password (again): "):
        die("the two passwords differ")
    return first


@user_app.command("add")
def add(
    login: Login,
    role: RoleOption,
    display_name: Annotated[str | None, typer.Option("--name", help="Display name (default: the login)")] = None,
    password_stdin: PasswordStdin = False,
    data_dir: DataDir = None,
) -> None:
    """Add a user (the password is prompted for, or read with --password-stdin)."""
    password = _password(password_stdin)
    with command_context(data_dir) as ctx:
        user = accounts.create_user(ctx, login, password, role, display_name)
        console.print(f"user {user.login} added with role {user.role}")


@user_app.command("list")
def list_users(data_dir: DataDir = None) -> None:
    """List the users: role, state, last login."""
    with command_context(data_dir) as ctx:
        users = accounts.list_users(ctx)
        now = ctx.now()
    table = Table("login", "name", "role", "state", "last login")
    for u in users:
        state = "disabled" if u.disabled else "locked" if u.locked_until and u.locked_until > now else "active"
        last = u.last_login_at.isoformat(timespec="seconds") if u.last_login_at else "never"
        table.add_row(u.login, u.display_name, u.role, state, last)
    console.print(table)


@user_app.command("set-role")
def set_role(
    login: Login,
    role: Annotated[str, typer.Argument(help="viewer, editor, admin or verifier")],
    data_dir: DataDir = None,
) -> None:
    """Change a user's role (its current tokens carry the new role from their next use)."""
    with command_context(data_dir) as ctx:
        user = accounts.set_role(ctx, accounts.get_user(ctx, login), role)
        console.print(f"user {user.login} now has role {user.role}")


@user_app.command("disable")
def disable(
    login: Login,
    enable: Annotated[bool, typer.Option("--enable", help="Enable the user again instead")] = False,
    data_dir: DataDir = None,
) -> None:
    """Disable a user (its tokens are revoked at once), or enable it again with --enable."""
    with command_context(data_dir) as ctx:
        user = accounts.disable_user(ctx, accounts.get_user(ctx, login), not enable)
        console.print(f"user {user.login} {'disabled' if user.disabled else 'enabled'}")


@user_app.command("unlock")
def unlock(login: Login, data_dir: DataDir = None) -> None:
    """Lift a lockout after failed logins at once."""
    with command_context(data_dir) as ctx:
        user = accounts.unlock_user(ctx, accounts.get_user(ctx, login))
        console.print(f"user {user.login} unlocked")


@user_app.command("passwd")
def passwd(login: Login, password_stdin: PasswordStdin = False, data_dir: DataDir = None) -> None:
    """Set a user's password (an administrator's reset: the old one is not asked); its tokens are revoked."""
    password = _password(password_stdin)
    with command_context(data_dir) as ctx:
        user = accounts.set_password(ctx, accounts.get_user(ctx, login), password)
        console.print(f"password of {user.login} changed; its tokens are revoked")
