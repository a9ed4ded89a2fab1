"""`ActionGuard`: the one way a panel runs an action that changes the stack (restart a service, terminate or
re-execute a run, reload a location, toggle a schedule, materialize an asset).

Every such action is refused in read-only mode; runs one at a time per target, a second press saying what is
under way instead of being dropped; asks first when it interrupts something (or lets a dialog choose); runs
its I/O in a worker; and reports its outcome, and any failure, literally.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from textual.screen import Screen
from textual.widget import Widget

from edp_tui.errors import EdpError
from edp_tui.ui.notify import report
from edp_tui.ui.screens.confirm import ConfirmScreen

T = TypeVar("T")
A = TypeVar("A")


class ActionGuard:
    """The actions of one panel. ``key`` names the target an action holds (a service; "" for the whole
    panel): one action per key at a time. ``on_message`` also hears every refusal and failure, for a panel
    that keeps the outcome of its last action on a line of its own (toasts go away)."""

    def __init__(
        self, owner: Widget, *, read_only: bool, on_message: Callable[[str], None] | None = None
    ) -> None:
        self.owner = owner
        self.read_only = read_only
        self.on_message = on_message
        # key -> the action under way on it, as a person reads it ("terminate of 1a2b3c4d").
        self.in_flight: dict[str, str] = {}

    def busy(self, key: str = "") -> str | None:
        return self.in_flight.get(key)

    def refused(self, what: str, key: str = "") -> bool:
        """True, and said, when ``what`` may not start now: read-only mode, or another action on ``key``."""
        if self.read_only:
            self._tell(f"Read-only mode: {what} refused", title="Read-only")
            return True
        busy = self.in_flight.get(key)
        if busy is not None:
            self._tell(f"{busy} already in progress: {what} refused", title=None)
            return True
        return False

    def start(
        self,
        what: str,
        work: Callable[[], Awaitable[T]],
        *,
        key: str = "",
        confirm: str | None = None,
        done: Callable[[T], None] | None = None,
        started: str | None = None,
    ) -> None:
        """Run ``work`` (after a yes to ``confirm``, when given); ``done`` gets its result."""
        if self.refused(what, key):
            return
        if confirm is None:
            self._run(what, work, key, done, started)
            return

        def answered(yes: bool | None) -> None:
            # Checked again: another action may have started while the question was open.
            if yes and not self.refused(what, key):
                self._run(what, work, key, done, started)

        self.owner.app.push_screen(ConfirmScreen(confirm), answered)

    def choose(
        self,
        what: str,
        dialog: Screen[A | None],
        work: Callable[[A], Awaitable[T]],
        *,
        key: str = "",
        done: Callable[[T], None] | None = None,
    ) -> None:
        """Let ``dialog`` choose how (None: cancelled), then run ``work`` with the choice."""
        if self.refused(what, key):
            return

        def answered(choice: A | None) -> None:
            if choice is not None and not self.refused(what, key):
                self._run(what, lambda: work(choice), key, done, None)

        self.owner.app.push_screen(dialog, answered)

    def _run(
        self,
        what: str,
        work: Callable[[], Awaitable[T]],
        key: str,
        done: Callable[[T], None] | None,
        started: str | None,
    ) -> None:
        self.in_flight[key] = what
        if started:
            report(self.owner, started, timeout=3)
        self.owner.run_worker(
            self._work(what, work, key, done), group=f"actions-{id(self)}", exit_on_error=False
        )

    async def _work(
        self, what: str, work: Callable[[], Awaitable[T]], key: str, done: Callable[[T], None] | None
    ) -> None:
        try:
            result = await work()
        except EdpError as exc:
            if self.on_message is not None:
                self.on_message(f"{what} failed: {exc}")
            report(self.owner, exc, title=f"{what[:1].upper()}{what[1:]} failed")
            return
        finally:
            # Anything else (a bug) ends the worker in error: the App reports it; the target is free again.
            self.in_flight.pop(key, None)
        if done is not None:
            done(result)

    def _tell(self, message: str, *, title: str | None) -> None:
        if self.on_message is not None:
            self.on_message(message)
        report(self.owner, message, title=title, severity="warning")
