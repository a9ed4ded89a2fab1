"""Waiting in tests: poll a condition until it holds or a deadline passes, never a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest


def wait_for(what: str, check: Callable[[], Any], deadline_s: float, interval_s: float = 0.2) -> Any:
    """Poll `check` until it returns something true; fail with the last value after the deadline."""
    end = time.monotonic() + deadline_s
    last: Any = None
    while time.monotonic() < end:
        last = check()
        if last:
            return last
        time.sleep(interval_s)
    pytest.fail(f"{what}: not within {deadline_s:.0f} s (last: {last!r})")
