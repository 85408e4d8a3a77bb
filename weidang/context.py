"""What every command receives: the home and the effective settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import click

from weidang.home import Home, default_home
from weidang.settings import Settings


@dataclass
class AppContext:
    home_option: Path | None
    overrides: tuple[str, ...] = ()
    _settings: Settings | None = field(default=None, repr=False)
    # The last context made, so that a crash report can find the home after click has unwound.
    current: ClassVar[AppContext | None] = None

    def __post_init__(self) -> None:
        AppContext.current = self

    @property
    def home(self) -> Home:
        return Home(self.home_option if self.home_option is not None else default_home())

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = self.home.settings(self.overrides)
        return self._settings


pass_app = click.make_pass_decorator(AppContext)
