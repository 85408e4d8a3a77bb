"""Settings: packaged defaults, overridden by the home's file, the environment and ``--set``.

Every value is checked the moment it is read, against the type and rule its setting declares in
``default_settings``. TOML has numbers, booleans and lists, so a value from ``weidang.toml`` must
already be of the setting's type (``6``, not ``"6"``). The environment and ``--set`` give text,
read as the type asks: a number, ``true``/``false``, or a list as JSON (``["a", "b"]``) or
comma-separated (``a,b``).
"""

from __future__ import annotations

import json
import os
import re
import tomllib
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from weidang import default_settings
from weidang.i18n import _
from weidang.setting_rules import Rule


class SettingsError(Exception):
    """A setting is unknown or has a value of the wrong kind."""


@dataclass(frozen=True)
class Spec:
    """One setting as declared: its type (bool, int, float, str or list of str) and rule."""

    name: str
    kind: type
    rule: Rule | None
    default: Any

    def describe(self) -> str:
        if self.rule is not None:
            return self.rule.describe(self.kind)
        return _KIND_WORDS.get(self.kind, self.kind.__name__)


_KIND_WORDS = {bool: "true or false", int: "a whole number", float: "a number", str: "text",
               list: "a list of text, e.g. [\"a\", \"b\"]"}
_INTEGER = re.compile(r"[+-]?\d{1,19}")
_USERINFO = re.compile(r"(://)[^/@\s]+@")  # a password in a proxy or database address
_WRONG = object()


@cache
def specs() -> dict[str, Spec]:
    """Every setting, by name, from the annotations of ``default_settings``."""
    hints = typing.get_type_hints(default_settings, include_extras=True)
    out = {}
    for name in dir(default_settings):
        if name.isupper():
            default = getattr(default_settings, name)
            out[name] = Spec(name, *_kind_and_rule(hints.get(name), default), default)
    return out


def _kind_and_rule(hint: Any, default: Any) -> tuple[type, Rule | None]:
    rule = None
    if typing.get_origin(hint) is Annotated:
        hint, *extras = typing.get_args(hint)
        rule = next((e for e in extras if isinstance(e, Rule)), None)
    if hint is None:  # declared without a type (the test suite refuses that): go by the default
        return type(default), None
    return typing.get_origin(hint) or hint, rule


def _defaults() -> dict[str, Any]:
    return {name: spec.default for name, spec in specs().items()}


def _from_text(kind: type, text: str) -> Any:
    """Text from the environment or the command line as a value of ``kind``, else ``_WRONG``."""
    word = text.strip()
    if kind is bool:
        return {"true": True, "yes": True, "on": True, "1": True,
                "false": False, "no": False, "off": False, "0": False}.get(word.lower(), _WRONG)
    if kind is int:
        return int(word) if _INTEGER.fullmatch(word) else _WRONG
    if kind is float:
        try:
            return float(word) if len(word) <= 40 else _WRONG
        except ValueError:
            return _WRONG
    if kind is list:
        if word.startswith("["):
            try:
                return json.loads(word)
            except json.JSONDecodeError:
                return _WRONG
        return [part.strip() for part in word.split(",") if part.strip()]
    return text


def _of_kind(kind: type, value: Any) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is list:
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    return isinstance(value, kind)


def check(name: str, raw: Any, origin: str, from_text: bool) -> Any:
    """``raw`` as the value of setting ``name``, or SettingsError saying what is allowed."""
    spec = specs()[name]
    value = _from_text(spec.kind, raw) if from_text and isinstance(raw, str) else raw
    if value is _WRONG or not _of_kind(spec.kind, value) or (
            spec.rule is not None and not spec.rule.allows(value)):
        raise SettingsError(_("the setting %(name)s (from %(origin)s) is %(value)s, but it must be "
                              "%(allowed)s", name=name, origin=origin, value=_shown(raw),
                              allowed=spec.describe()))
    return value


def _shown(value: Any) -> str:
    text = _USERINFO.sub(r"\1***@", repr(value))
    return text if len(text) <= 60 else text[:56] + "...'"


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
                raise SettingsError(_("%(file)s is not valid TOML: %(error)s", file=home_file,
                                      error=exc)) from exc
            table = data.get("settings", {})
            if not isinstance(table, dict):
                raise SettingsError(_("%(file)s: settings must be a [settings] table", file=home_file))
            for name, value in table.items():
                self._set(name.upper(), value, str(home_file), from_text=False)
        env = os.environ if environ is None else environ
        for key, value in env.items():
            name = key.removeprefix("WEIDANG_")
            if key.startswith("WEIDANG_") and name in self._values:
                self._set(name, value, f"environment variable {key}", from_text=True)
        for item in overrides:
            name, sep, value = item.partition("=")
            if not sep:
                raise SettingsError(_("--set expects NAME=VALUE, got %(item)s", item=repr(item)))
            self._set(name.strip().upper(), value.strip(), "--set", from_text=True)

    def _set(self, name: str, value: Any, origin: str, from_text: bool) -> None:
        if name not in self._values:
            raise SettingsError(_("unknown setting %(name)s (from %(origin)s)", name=name, origin=origin))
        self._values[name] = check(name, value, origin, from_text)
        self.origin[name] = origin

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)
