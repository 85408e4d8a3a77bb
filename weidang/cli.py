"""The command line: parses arguments and hands each command to the package that owns it."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from catalog.secret_shapes import scrub_secrets
from weidang import __version__, errors
from weidang.commands import accounts as accounts_command
from weidang.commands import catalog as catalog_command
from weidang.commands import demo, harvest, seal, verify
from weidang.commands import emulator as emulator_command
from weidang.commands import index as index_command
from weidang.commands import parse as parse_command
from weidang.commands import run as run_command
from weidang.commands import search as search_command
from weidang.commands import status as status_command
from weidang.context import AppContext
from weidang.home import keep_private

COMMANDS: list[click.Command] = [demo.command, harvest.command, verify.command, seal.command]
COMMANDS.append(parse_command.command)
COMMANDS.append(emulator_command.command)
COMMANDS.append(accounts_command.command)
COMMANDS.append(catalog_command.command)
COMMANDS += [run_command.command, status_command.command]
COMMANDS += [index_command.command, search_command.command]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100,
                                "terminal_width": 100})
@click.version_option(__version__, prog_name="weidang")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="WEIDANG_HOME",
    help="Home directory holding configuration, catalog and collections "
    "(default: $WEIDANG_HOME, else ~/.local/share/weidang).",
)
@click.option("--set", "overrides", multiple=True, metavar="NAME=VALUE", help="Override a setting.")
@click.pass_context
def cli(ctx: click.Context, home: Path | None, overrides: tuple[str, ...]) -> None:
    """weidang (微档): archive government Weibo and WeChat posts as trustworthy evidence."""
    ctx.obj = AppContext(home, overrides)


for _command in COMMANDS:
    cli.add_command(_command)


def main(args: Sequence[str] | None = None) -> int:
    """Run a command; errors become one sentence and a non-zero exit, never a traceback."""
    keep_private()  # before anything is created: catalog, logs, index, WARC files
    try:
        result = cli.main(args=list(args) if args is not None else None, standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        click.echo("Stopped.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except errors.USER_ERRORS as exc:
        click.echo(f"Error: {errors.sentence(exc)}", err=True)
        return 1
    except KeyboardInterrupt:
        click.echo("Stopped.", err=True)
        return 130
    except Exception as exc:  # a bug: say so plainly, keep the details for the developers
        if errors.disk_full(exc):  # not a bug: the archivist can free space and run it again
            click.echo(f"Error: {errors.sentence(Exception(errors.DISK_FULL))}", err=True)
            return 1
        report = errors.write_crash_report(exc, _logs_dir())
        where = f" Details were saved to {report}." if report else ""
        click.echo(f"Error: weidang failed unexpectedly ({exc.__class__.__name__}: "
                   f"{scrub_secrets(str(exc))}).{where}", err=True)
        return 70
    return result if isinstance(result, int) else 0


def _logs_dir() -> Path | None:
    """The logs of the home given (--home, WEIDANG_HOME); of the default home only if it exists
    already, never created for a crash (e.g. `verify DIR` run outside any home)."""
    app = AppContext.current
    if app is None:
        return None
    if app.home_option is None and not app.home.config_file.exists():
        return None
    return app.home.logs


if __name__ == "__main__":
    sys.exit(main())
