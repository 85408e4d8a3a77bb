"""Scheduling failures, each told as one plain sentence for the archivist."""

from __future__ import annotations


class ScheduleError(Exception):
    """Base of every error raised by the daemon and its schedules."""


class DaemonRunning(ScheduleError):
    """Another daemon already runs on this home's schedule store."""
