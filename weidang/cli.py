"""The command line: parses arguments and hands each command to the package that owns it."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from catalog.secret_shapes import scrub_secrets
from weidang import __version__, cli_help, errors, i18n
from weidang.context import AppContext
from weidang.home import keep_private
from weidang.i18n import _

# Each command lives in weidang/commands/NAME.py as `command`, imported only when it is run or its
# help is shown, so that a command loads only the libraries it needs (Scrapy, APScheduler, ...).
COMMANDS = ("accounts", "appraise", "audit", "catalog", "demo", "emulator", "harvest", "index",
            "login", "parse", "run", "seal", "search", "show", "status", "topics", "transfer", "users",
            "verify", "web", "worker")


class LazyGroup(click.Group):
    """Click's lazily loaded subcommands: a command's module is imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None  # click then says "No such command"
        command: click.Command = importlib.import_module(f"weidang.commands.{cmd_name}").command
        return cli_help.translate(command)


def _choose_lang(ctx: click.Context, param: click.Parameter, value: str | None) -> str:
    """The language of every message from here on: --lang, else WEIDANG_LANG, else LANG, else
    Chinese. Eager, so that the commands' own errors and help already speak it."""
    lang = i18n.normalise_lang(value) if value else i18n.server_default()
    if lang is None:
        raise click.BadParameter(_("choose zh_CN (简体中文) or en (English)."), ctx, param)
    i18n.choose(lang)
    cli_help.translate(ctx.command)
    return lang


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"],
                                             "max_content_width": 100, "terminal_width": 100})
@click.version_option(__version__, prog_name="weidang")
@click.option("--lang", metavar="zh_CN|en", is_eager=True, expose_value=False, callback=_choose_lang,
              help="Language of the messages: zh_CN (default) or en; else $WEIDANG_LANG, else $LANG.")
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


def main(args: Sequence[str] | None = None) -> int:
    """Run a command; errors become one sentence and a non-zero exit, never a traceback."""
    keep_private()  # before anything is created: catalog, logs, index, WARC files
    i18n.choose(None)  # the environment's, until --lang is read (a usage error may come first)
    cli_help.translate(cli)
    try:
        result = cli.main(args=list(args) if args is not None else None, standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        click.echo(_("Stopped."), err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo(_("Stopped."), err=True)
        return 130
    except Exception as exc:  # a bug, unless written for people: say so plainly, keep the details
        if isinstance(exc, errors.user_errors()):
            click.echo(_("Error: %(sentence)s", sentence=errors.sentence(exc)), err=True)
            return 1
        if errors.disk_full(exc):  # not a bug: the archivist can free space and run it again
            click.echo(_("Error: %(sentence)s", sentence=errors.sentence(Exception(errors.DISK_FULL))),
                       err=True)
            return 1
        report = errors.write_crash_report(exc, _logs_dir())
        failed = _("weidang failed unexpectedly (%(error)s).",
                   error=f"{exc.__class__.__name__}: {scrub_secrets(str(exc))}")
        where = " " + _("Details were saved to %(file)s.", file=report) if report else ""
        click.echo(_("Error: %(sentence)s", sentence=failed + where), err=True)
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
