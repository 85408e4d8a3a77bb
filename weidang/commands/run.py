"""`weidang run`: the daemon that harvests every registered account on its schedule."""

from __future__ import annotations

import time

import click

from weidang.context import AppContext, pass_app


@click.command("run")
@click.option("--once", is_flag=True, help="Run what is due now, wait for it to finish, and exit.")
@click.option("--for", "seconds", type=float, default=None, metavar="SECONDS",
              help="Stop by itself after this many seconds.")
@pass_app
def command(app: AppContext, once: bool, seconds: float | None) -> int:
    """Harvest every registered account on its schedule until stopped (SIGTERM or Ctrl-C).

    Schedules come from the catalog (`weidang accounts schedule`); changes are picked up while
    running. The log is in HOME/logs/daemon.log; `weidang status` shows each account's state.
    """
    from schedules.daemon import Daemon  # noqa: PLC0415 - APScheduler only loads for the daemon
    from weidang.daemon_config import daemon_config  # noqa: PLC0415 - the same

    app.home.root.mkdir(mode=0o700, parents=True, exist_ok=True)
    config = daemon_config(app.home, app.settings, app.overrides)

    until = time.monotonic() + seconds if seconds is not None else None
    Daemon(config).run(until=until, once=once)
    return 0
