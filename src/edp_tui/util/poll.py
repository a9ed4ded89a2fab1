"""`PollLoop`: one poll loop that never overlaps, sleeps while nobody needs it and backs off on failure.

No Textual here: a panel composes one (`ui.widgets.polling.PollingPanel`), and so does anything else that
polls (the header's daemon-health watch), each handing in what to poll, how often, and when it is wanted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from edp_tui.errors import EXPECTED_ERRORS
from edp_tui.util.backoff import Backoff

log = logging.getLogger("edp_tui")


def always() -> bool:
    return True


class UnexpectedErrors:
    """Logs an error outside `EXPECTED_ERRORS` with its traceback, once per streak of the same error (a
    payload that stays broken is retried every few seconds: one entry in the log file, not one per retry)."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._last: tuple[type[BaseException], str] | None = None

    def saw(self, exc: BaseException) -> None:
        if isinstance(exc, EXPECTED_ERRORS):
            return
        key = (type(exc), str(exc))
        if key != self._last:
            self._last = key
            log.error("%s failed: %s", self.what, exc, exc_info=exc)

    def cleared(self) -> None:
        self._last = None


class PollLoop:
    """Runs ``poll`` in a loop (`run`, one task): the next poll starts ``interval()`` seconds after the
    previous one finished, or at once on `wake`. While ``wanted()`` is false (nothing on screen needs the
    data) the loop waits for a `wake` instead; the first poll always runs.

    A failure never ends the loop: ``on_error(error, retry_in)`` hears it (and ``on_error(None, None)`` the
    recovery), the next poll is retried with backoff (twice the interval, doubling up to ``max_backoff``). An
    error outside `EXPECTED_ERRORS` (a payload of a shape nobody foresaw, a bug) is also logged with its
    traceback, once per streak of the same error.
    """

    def __init__(
        self,
        poll: Callable[[], Awaitable[None]],
        *,
        interval: Callable[[], float],
        wanted: Callable[[], bool] = always,
        on_error: Callable[[Exception | None, float | None], None] | None = None,
        max_backoff: float = 10.0,
        name: str = "poll",
    ) -> None:
        self.poll = poll
        self.interval = interval
        self.wanted = wanted
        self.on_error = on_error or (lambda error, retry_in: None)
        self.max_backoff = max_backoff
        self.name = name
        self.polls = 0
        # Passes through the loop, polled or not (a test waits on it instead of on a fixed pause).
        self.iterations = 0
        self.last_error: Exception | None = None
        # Waiting for a `wake` because nothing wants the data (what a test of the wake waits for).
        self.parked = False
        self._unexpected = UnexpectedErrors(f"{name}: poll")
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Poll now (or, while not wanted, as soon as it is)."""
        self._wake.set()

    async def run(self) -> None:
        backoff = Backoff(min(self.interval() * 2, self.max_backoff), self.max_backoff)
        while True:
            if self.polls and not self.wanted():
                self._wake.clear()
                self.parked = True
                try:
                    await self._wake.wait()
                finally:
                    self.parked = False
            self._wake.clear()
            delay = self.interval()
            try:
                await self.poll()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - nothing may end the loop: what it feeds would freeze
                self._unexpected.saw(exc)
                backoff.base = min(self.interval() * 2, backoff.cap)
                delay = backoff.failed()
                self.last_error = exc
                self.on_error(exc, delay)
            else:
                if backoff.failures or self.last_error is not None:
                    self.last_error = None
                    self._unexpected.cleared()
                    self.on_error(None, None)
                backoff.reset()
            self.polls += 1
            self.iterations += 1
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            except TimeoutError:
                pass
