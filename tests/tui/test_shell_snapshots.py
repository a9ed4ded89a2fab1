"""Snapshots of the shell as a person sees it (fixed clock, in-memory Docker source, no logs backend)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Static

sys.path.insert(0, str(Path(__file__).parent))
from dagster_fake import FakeDagster  # noqa: E402
from shell_fakes import FakeServices, fake_backends, fixed_now  # noqa: E402

from edp_tui.config import Config  # noqa: E402
from edp_tui.ui.app import EdpApp  # noqa: E402

SIZE = (160, 30)


def make_app(source: FakeServices, **config: Any) -> EdpApp:
    return EdpApp(
        Config(compose_file=Path("/nonexistent/compose.yaml"), **config),
        fake_backends(source, FakeDagster()),  # the Dagster tabs and header states from an in-memory fake
        now=fixed_now,
        logs_panel_factory=lambda: Static("(logs panel)", id="logs-static"),
    )


async def wait_populated(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, EdpApp)
    deadline = time.monotonic() + 5
    while not app.services_panel.populated:
        assert time.monotonic() < deadline, "services never populated"
        await pilot.pause(0.02)
    await pilot.pause()


def test_services_panel(snap_compare: Any) -> None:
    assert snap_compare(make_app(FakeServices()), terminal_size=SIZE, run_before=wait_populated)


def test_engine_unreachable(snap_compare: Any) -> None:
    source = FakeServices()
    source.connected_at_start = False

    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, EdpApp)
        deadline = time.monotonic() + 5
        while not app.services_panel.has_class("-unreachable"):
            assert time.monotonic() < deadline
            await pilot.pause(0.02)
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(make_app(source, read_only=True), terminal_size=SIZE, run_before=run_before)


def test_detail_view(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_populated(pilot)
        await pilot.press("down", "enter")
        await pilot.pause()

    assert snap_compare(make_app(FakeServices()), terminal_size=SIZE, run_before=run_before)
