"""`python -m emulator`: run the platform emulator until SIGTERM or SIGINT.

The first lines printed are machine-readable:
    PROXY http://127.0.0.1:PORT
    CA /path/to/ca.pem
    CONTROL http://emulator.control/ (through the proxy)
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from emulator.faults import FaultPlan, FaultPlanError
from emulator.server import Emulator, default_state_dir
from emulator.world import World, WorldError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator",
                                     description="Weibo/WeChat platform emulator (HTTP(S) proxy).")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--plan", type=Path, help="fault plan (TOML)")
    parser.add_argument("--accounts", type=int, default=3, help="generated accounts per platform")
    parser.add_argument("--posts", type=int, default=30, help="generated posts per account")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated world")
    parser.add_argument("--state-dir", type=Path, default=None,
                        help=f"where the CA lives (default {default_state_dir()})")
    args = parser.parse_args(argv)
    try:
        plan = FaultPlan.from_file(args.plan) if args.plan else FaultPlan()
        world = World(accounts=args.accounts, posts=args.posts, seed=args.seed)
    except (FaultPlanError, WorldError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    emulator = Emulator(world, plan, port=args.port,
                        state_dir=args.state_dir or default_state_dir()).start()
    print(f"PROXY {emulator.proxy_url}", flush=True)
    print(f"CA {emulator.ca_cert_path}", flush=True)
    print("CONTROL http://emulator.control/ (through the proxy)", flush=True)
    stopped = threading.Event()

    def stop(signum: int, frame: object) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopped.wait(0.5):
        pass
    emulator.stop()
    print("STOPPED", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
