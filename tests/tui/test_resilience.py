"""Loops that must outlive any one failure: a panel's poll loop, the location-events subscription."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from dagster_fake import FakeDagster
from textual.app import ComposeResult
from textual.widgets import Static

from edp_tui.dagster.models import LocationEvent
from edp_tui.ui.widgets.dagster.locations import LocationsPanel
from edp_tui.ui.widgets.polling import PollingPanel
from tests.support.pilot import Host, screen_text, until

SIZE = (120, 24)


class FlakyPanel(PollingPanel):
    """Fails its first polls with an error nobody foresaw (the shape of `capturedLogs` answering null)."""

    poll_interval = 0.05
    max_backoff = 0.2

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.succeeded = 0

    def compose(self) -> ComposeResult:
        yield self.banner()
        yield Static("ok", id="body")

    async def poll_once(self) -> None:
        if self.failures:
            self.failures -= 1
            none: dict[str, str] | None = None
            none.get("stdout")  # type: ignore[union-attr]  # AttributeError, as a null payload gives
        self.succeeded += 1


async def test_poll_loop_survives_an_unexpected_error_shows_it_and_logs_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    panel = FlakyPanel(failures=2)
    app = Host(panel)
    with caplog.at_level(logging.ERROR, logger="edp_tui"):
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: "AttributeError" in screen_text(app), timeout=5)
            assert "retrying in" in screen_text(app)
            # The loop goes on: the panel recovers and the banner goes away.
            await until(pilot, lambda: panel.succeeded >= 2, timeout=5)
            await until(pilot, lambda: not panel.has_class("-failing"), timeout=5)
    assert any("poll failed" in r.getMessage() and r.exc_info for r in caplog.records)


class BrokenEventsFake(FakeDagster):
    """Its first subscription fails with an unexpected error; the next ones work."""

    def __init__(self) -> None:
        super().__init__()
        self.subscriptions = 0

    async def location_events(self) -> AsyncIterator[LocationEvent]:
        self.subscriptions += 1
        if self.subscriptions == 1:
            raise RuntimeError("frame of an unexpected shape")
        async for event in super().location_events():
            yield event


async def test_location_events_subscription_survives_an_unexpected_error() -> None:
    fake = BrokenEventsFake()
    panel = LocationsPanel(fake)
    app = Host(panel)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "frame of an unexpected shape" in screen_text(app), timeout=5)
        assert "resubscribing" in screen_text(app)
        # Resubscribed: an event pushed now reaches the panel.
        await until(pilot, lambda: fake.location_event_queue is not None, timeout=5)
        assert fake.location_event_queue is not None
        fake.location_event_queue.put_nowait(LocationEvent("LOCATION_RECONNECTED", "back", "etl_pipeline"))
        await until(pilot, lambda: "etl_pipeline reconnected" in screen_text(app), timeout=5)
