"""Driving a Textual app under test as a person would: a host for one widget, the text the terminal shows, and
waiting on the pilot, so that the app keeps running (its workers, timers and messages) while a test waits."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.app import App, ComposeResult
from textual.widget import Widget


class Host(App[None]):
    """Hosts one widget, as the dashboard's tab would."""

    def __init__(self, widget: Widget) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


def screen_text(app: Any) -> str:
    """What the terminal shows right now, as plain text lines (the compositor's own strips of the screen)."""
    return "\n".join(strip.text.rstrip() for strip in app.screen._compositor.render_strips())


def below_text(app: Any) -> str:
    """What the screen under the top one (a modal's background) has painted, as plain text lines."""
    below = app.screen_stack[-2]
    return "\n".join(strip.text.rstrip() for strip in below._compositor.render_strips())


def on_screen(pilot: Any, *needles: str) -> Callable[[], bool]:
    """A predicate for `until`: every needle is on the screen."""
    return lambda: all(n in screen_text(pilot.app) for n in needles)


async def until(
    pilot: Any,
    # Callable[..., Any]: a lambda with default arguments (a loop variable bound early) is one too.
    predicate: Callable[..., Any],
    timeout: float = 5.0,
    what: str = "the condition",
    step: float = 0.05,
) -> float:
    """Pause the pilot until ``predicate()`` holds; returns the seconds it took. Fails with the screen's text
    after ``timeout`` seconds."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(
                f"timed out after {timeout:.1f} s waiting for {what}; screen:\n{screen_text(pilot.app)}"
            )
        await pilot.pause(step)
    return time.monotonic() - start


async def wait_shown(pilot: Any, *needles: str, timeout: float = 5.0) -> str:
    """Pause until every needle is on the screen; returns the screen's text. A widget's state changes a
    frame before the compositor paints it: a check of what the user sees waits for the paint."""
    await until(pilot, on_screen(pilot, *needles), timeout, f"{needles!r} on the screen")
    return screen_text(pilot.app)
