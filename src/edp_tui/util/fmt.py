"""The one set of time and duration formatters of the dashboard and the CLI (they must agree)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def duration(seconds: float | timedelta | None, *, coarse: bool = False) -> str:
    """A duration on one scale everywhere: 0.4s, 12.3s, 2m05s, 3h05m, 2d04h; "-" when unknown.

    ``coarse`` (uptimes, refreshed every second): whole seconds in the first minute, then no seconds at all
    (42s, 7m, 3h05m), so the text rarely changes.
    """
    if seconds is None:
        return "-"
    if isinstance(seconds, timedelta):
        seconds = seconds.total_seconds()
    seconds = max(seconds, 0.0)
    if seconds < 60:
        return f"{int(seconds)}s" if coarse else f"{seconds:.1f}s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m" if coarse else f"{minutes}m{sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def coarse_change_in(seconds: float) -> float:
    """Seconds until ``duration(seconds, coarse=True)`` reads differently: its text changes every second in
    the first minute, then every minute, then (after a day) every hour; a clock showing it sleeps as long."""
    seconds = max(seconds, 0.0)
    if seconds < 60:
        return 1.0 - seconds % 1.0
    if seconds < 86_400:
        return 60.0 - seconds % 60.0
    return 3600.0 - seconds % 3600.0


def timestamp(ts: float | None, *, with_year: bool = False) -> str:
    """Epoch seconds as UTC ``MM-DD HH:MM:SS`` (a table cell) or ``YYYY-MM-DD HH:MM:SS``; "-" if unknown."""
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S" if with_year else "%m-%d %H:%M:%S")


def clock(ts: float | None) -> str:
    """Epoch seconds as UTC ``HH:MM:SS`` (events, progress lines)."""
    return "--:--:--" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S")
