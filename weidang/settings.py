"""Settings: packaged defaults, overridden by the home's file, the environment and ``--set``."""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from weidang import default_settings


class SettingsError(Exception):
    """A setting is unknown or has a value of the wrong kind."""


def _defaults() -> dict[str, Any]:
    return {name: getattr(default_settings, name) for name in dir(default_settings) if name.isupper()}


def _coerce(name: str, raw: Any, default: Any, origin: str) -> Any:
    """Type a value from a file, the environment or the command line after its default."""
    if isinstance(raw, str) and not isinstance(default, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            if isinstance(default, list):
                raw = [part.strip() for part in raw.split(",") if part.strip()]
    if isinstance(default, bool):
        ok = isinstance(raw, bool)
    elif isinstance(default, int | float):
        ok = isinstance(raw, int | float) and not isinstance(raw, bool)
    else:
        ok = isinstance(raw, type(default))
    if not ok:
        raise SettingsError(
            f"setting {name} from {origin} should be {type(default).__name__}, got {raw!r}"
        )
    return raw


class Settings(Mapping[str, Any]):
    """Read-only view of the effective settings; ``origin`` tells where each value came from."""

    def __init__(
        self,
        home_file: Path | None = None,
        environ: Mapping[str, str] | None = None,
        overrides: Iterable[str] = (),
    ) -> None:
        self._values = _defaults()
        self.origin = {name: "default" for name in self._values}
        if home_file is not None and home_file.exists():
            try:
                data = tomllib.loads(home_file.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise SettingsError(f"{home_file} is not valid TOML: {exc}") from exc
            for name, value in data.get("settings", {}).items():
                self._set(name.upper(), value, str(home_file))
        env = os.environ if environ is None else environ
        for key, value in env.items():
            name = key.removeprefix("WEIDANG_")
            if key.startswith("WEIDANG_") and name in self._values:
                self._set(name, value, f"environment variable {key}")
        for item in overrides:
            name, sep, value = item.partition("=")
            if not sep:
                raise SettingsError(f"--set expects NAME=VALUE, got {item!r}")
            self._set(name.strip().upper(), value.strip(), "--set")

    def _set(self, name: str, value: Any, origin: str) -> None:
        if name not in self._values:
            raise SettingsError(f"unknown setting {name} (from {origin})")
        self._values[name] = _coerce(name, value, self._values[name], origin)
        self.origin[name] = origin

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)
