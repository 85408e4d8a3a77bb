"""The face's way to the users of the catalog (their tables are part of the catalog's schema)."""

from __future__ import annotations

import getpass


def cli_actor() -> str:
    """Who made a change from the command line, for the users' event log."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"
