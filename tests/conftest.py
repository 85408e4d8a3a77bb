"""Shared fixtures. Tests never reach the real platforms; see tests/test_emulator_* for the stand-in."""

from __future__ import annotations

import pytest


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh weidang home that no other test sees."""
    root = tmp_path / "home"
    monkeypatch.setenv("WEIDANG_HOME", str(root))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return root
