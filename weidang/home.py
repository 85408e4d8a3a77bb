"""The home directory: one place for configuration, catalog, collections and logs."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from weidang.i18n import _
from weidang.settings import Settings

# Files a weidang process creates are its owner's only: the catalog, logs, index and WARC
# files may hold private data (logins are redacted, but who was harvested when is not public).
PRIVATE_UMASK = 0o077
DEFAULT_COLLECTION = "default"
CONFIG_NAME = "weidang.toml"
DEMO_MARKER = "This home holds weidang demo data only; `weidang demo` may erase it."


class HomeError(Exception):
    """The home directory cannot be used as asked."""


def keep_private() -> None:
    """Make every file and folder this process creates readable by its owner only."""
    if os.name == "posix":
        os.umask(PRIVATE_UMASK)


def default_home(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("WEIDANG_HOME"):
        return Path(env["WEIDANG_HOME"]).expanduser()
    data = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "weidang"


def default_demo_home(environ: Mapping[str, str] | None = None) -> Path:
    """The demo's own home: never the archive's, even when WEIDANG_HOME is set."""
    env = os.environ if environ is None else environ
    data = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "weidang-demo"


@dataclass(frozen=True)
class Home:
    root: Path

    @property
    def config_file(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def collection_dir(self, name: str = DEFAULT_COLLECTION) -> Path:
        return self.root / "collections" / name

    def collections(self) -> list[Path]:
        base = self.root / "collections"
        return sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []

    def settings(self, overrides: Iterable[str] = (), environ: Mapping[str, str] | None = None) -> Settings:
        return Settings(self.config_file, environ, overrides)

    def is_demo(self) -> bool:
        if not self.config_file.exists():
            return False
        try:
            data = tomllib.loads(self.config_file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError:
            return False
        return bool(data.get("home", {}).get("demo", False))

    def ensure(self, demo: bool = False) -> None:
        """Create the home if needed; a demo home is marked so that nothing mistakes it for an archive."""
        if demo and self.root.exists() and any(self.root.iterdir()) and not self.is_demo():
            raise HomeError(
                _("%(home)s already holds files that are not weidang demo data; the demo never writes "
                  "into a real archive's home, choose another --home", home=self.root)
            )
        if not demo and self.is_demo():
            raise HomeError(
                _("%(home)s is a demo home; use another --home for a real archive", home=self.root)
            )
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.logs.mkdir(mode=0o700, exist_ok=True)
        if not self.config_file.exists():
            lines = ["# weidang home configuration. Settings go under [settings], e.g.",
                     "# [settings]", "# warc_store_compress_level = 6", ""]
            if demo:
                lines = [f"# {DEMO_MARKER}", "[home]", "demo = true", ""] + lines
            self.config_file.write_text("\n".join(lines), encoding="utf-8")
