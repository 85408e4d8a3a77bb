"""`weidang users`: who may log in to the web interface, with which role."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from weidang.context import AppContext, pass_app
from weidang.i18n import _, china_time

if TYPE_CHECKING:
    from sqlalchemy import Connection

# The roles, written out here: importing catalog.users (argon2, SQLAlchemy) only to list them would
# slow `weidang --help`; tests/test_web_users_cli.py checks they are the catalog's.
ROLES = ("researcher", "archivist", "auditor", "admin")


@contextmanager
def _writing(app: AppContext) -> Iterator[Connection]:
    from weidang.store import catalog_db  # noqa: PLC0415 - SQLAlchemy loads when a command runs

    with catalog_db(app.home, app.settings) as db, db.write() as conn:
        yield conn


@contextmanager
def _reading(app: AppContext) -> Iterator[Connection]:
    from weidang.store import catalog_db  # noqa: PLC0415 - SQLAlchemy loads when a command runs

    with catalog_db(app.home, app.settings) as db, db.read() as conn:
        yield conn


def _actor() -> str:
    from weidang.users import cli_actor  # noqa: PLC0415

    return cli_actor()


@click.group("users", short_help="Users of the web interface: add, passwd, role, disable, enable, list.")
def command() -> None:
    """Users of the web interface. Roles: researcher (search and read), archivist (also
    accounts), auditor (also verification), admin (also users). Users are never deleted:
    disable them; every change is recorded with who made it."""


def _password(from_stdin: bool) -> str:
    if from_stdin:  # for scripts: the first line of standard input
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt(_("Password (at least 10 characters)"), hide_input=True,
                            confirmation_prompt=_("Repeat the password")))


@command.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="researcher", show_default=True)
@click.option("--display-name", default="", help="The person's name as shown in the pages.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_app
def add(app: AppContext, name: str, role: str, display_name: str, password_stdin: bool) -> int:
    """Add the user NAME (lower-case letters, digits, . _ -)."""
    from catalog.users import add_user  # noqa: PLC0415

    password = _password(password_stdin)
    with _writing(app) as conn:
        add_user(conn, name, role, password, _actor(), display_name)
    click.echo(_("Added %(name)s (%(role)s).", name=name, role=role))
    return 0


@command.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_app
def passwd(app: AppContext, name: str, password_stdin: bool) -> int:
    """Set a new password for NAME (their open sessions end)."""
    from catalog.users import set_password  # noqa: PLC0415

    password = _password(password_stdin)
    with _writing(app) as conn:
        set_password(conn, name, password, _actor())
    click.echo(_("The password of %(name)s is changed.", name=name))
    return 0


@command.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@pass_app
def role(app: AppContext, name: str, role: str) -> int:
    """Give NAME another role."""
    from catalog.users import set_role  # noqa: PLC0415

    with _writing(app) as conn:
        set_role(conn, name, role, _actor())
    click.echo(_("%(name)s is now %(role)s.", name=name, role=role))
    return 0


@command.command("disable")
@click.argument("name")
@pass_app
def disable(app: AppContext, name: str) -> int:
    """Stop NAME from logging in (their open sessions end; the user is kept)."""
    from catalog.users import set_disabled  # noqa: PLC0415

    with _writing(app) as conn:
        set_disabled(conn, name, True, _actor())
    click.echo(_("%(name)s is disabled.", name=name))
    return 0


@command.command("enable")
@click.argument("name")
@pass_app
def enable(app: AppContext, name: str) -> int:
    """Let a disabled NAME log in again."""
    from catalog.users import set_disabled  # noqa: PLC0415

    with _writing(app) as conn:
        set_disabled(conn, name, False, _actor())
    click.echo(_("%(name)s is enabled.", name=name))
    return 0


@command.command("list")
@click.option("--history", is_flag=True, help="Also every change made to users, oldest first.")
@pass_app
def list_command(app: AppContext, history: bool) -> int:
    """Show every user, disabled ones too."""
    from catalog.users import list_users, user_history  # noqa: PLC0415

    with _reading(app) as conn:
        people, events = list_users(conn), user_history(conn) if history else []
    if not people:
        click.echo(_("No users yet: add one with `weidang users add NAME --role admin`."))
    for user in people:
        state = _("disabled") if user.disabled else _("active")
        shown = f" ({user.display_name})" if user.display_name else ""
        click.echo(f"{user.name}{shown}  {user.role}  {state}  "
                   + _("since %(when)s", when=china_time(user.created_at)))
    for event in events:
        details = " ".join(f"{k}={v}" for k, v in event["details"].items())
        click.echo(f"{event['at']}  {event['actor']}  {event['action']} {event['user']} {details}".rstrip())
    return 0
