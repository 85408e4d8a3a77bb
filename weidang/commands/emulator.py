"""`weidang emulator`: run the local stand-in for Weibo and WeChat, for demos and development."""

from __future__ import annotations

import errno
import threading
from pathlib import Path

import click

from weidang.i18n import _


@click.command("emulator")
@click.option("--plan", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="A fault plan (TOML) saying which requests fail and how; see "
                   "emulator/plans/example.toml.")
@click.option("--port", type=int, default=0, show_default=True,
              help="Port on 127.0.0.1 (0 picks a free one).")
@click.option("--accounts", type=int, default=3, show_default=True,
              help="Generated accounts per platform, beside the recorded ones.")
@click.option("--posts", type=int, default=30, show_default=True,
              help="Generated posts (and WeChat articles) per account.")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Seed of the generated world: the same seed gives the same posts.")
def command(plan: Path | None, port: int, accounts: int, posts: int, seed: int) -> int:
    """Answer for Weibo and WeChat locally, as an HTTP(S) proxy, until Ctrl-C.

    Nothing is fetched from the internet: answers come from recorded real responses and a
    generated world of government accounts. Point a client's proxy at the printed address.
    """
    from emulator import Emulator, FaultPlan, World  # noqa: PLC0415 - loaded for this command only
    from emulator.server import default_state_dir  # noqa: PLC0415

    fault_plan = FaultPlan.from_file(plan) if plan else FaultPlan()
    world = World(accounts=accounts, posts=posts, seed=seed)
    try:
        emulator = Emulator(world, fault_plan, port=port, state_dir=default_state_dir()).start()
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
            raise
        raise click.ClickException(
            _("port %(port)s on 127.0.0.1 is already in use; choose another with --port, or leave it out "
              "to pick a free one", port=port) if exc.errno == errno.EADDRINUSE else
            _("port %(port)s on 127.0.0.1 may not be used by you; choose another with --port, or leave it "
              "out to pick a free one", port=port)) from None
    # Ctrl-C from the moment it serves (a script may stop it as soon as it read the address)
    # stops it cleanly: the addresses and the help are printed inside the try.
    try:
        click.echo(f"PROXY {emulator.proxy_url}")
        click.echo(f"CA {emulator.ca_cert_path}")
        click.echo("\n" + _(
            "The platform emulator is running. Point a client at it as its HTTP and HTTPS proxy:\n"
            "  curl --proxy %(proxy)s --cacert %(ca)s \\\n"
            "    'https://m.weibo.cn/api/container/getIndex?containerid=1076036279793937'\n"
            "  export https_proxy=%(proxy)s http_proxy=%(proxy)s\n"
            "HTTPS is intercepted with the certificate authority above: trust it, or skip\n"
            "verification (Scrapy does not verify; Chromium takes ignore_https_errors).\n"
            "Accounts, credentials and request counts: http://emulator.control/world and\n"
            "/counters through the proxy. Press Ctrl-C to stop.", proxy=emulator.proxy_url,
            ca=emulator.ca_cert_path))
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    click.echo(_("Emulator stopped."))
    return 0
