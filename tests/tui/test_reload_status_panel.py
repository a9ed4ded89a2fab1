"""The Code locations tab's hot-reload panel: reloads with their phases, the diff, a pending failure."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from shell_fakes import FakeReloadStatus  # noqa: E402

from edp_tui.reload_status.models import ReloadStatus  # noqa: E402
from edp_tui.ui.widgets.dagster.reload_status import ReloadStatusPanel  # noqa: E402
from tests.support.pilot import Host, screen_text

FIXTURES = Path(__file__).parents[1] / "unit" / "fixtures" / "reload"


def status(name: str) -> ReloadStatus:
    return ReloadStatus.parse(json.loads((FIXTURES / name).read_text()))


async def test_the_panel_shows_a_pending_failure_and_follows_the_fix() -> None:
    source = FakeReloadStatus(status("status-pending-failure.json"))
    app = Host(ReloadStatusPanel(source))  # type: ignore[arg-type]
    async with app.run_test(size=(160, 40)) as pilot:
        for _ in range(100):
            await pilot.pause(0.05)
            if "change not served" in screen_text(app):
                break
        text = screen_text(app)
        assert "dbt error in dbt_project/models/marts/fixture_probe.sql" in text
        assert "still serving the definitions loaded at 09:35:44" in text
        assert "#5" in text and "#4" in text and "checked +" in text
        # The fix is saved and served: the next poll shows it and the failure is gone.
        source.status = status("status.json")
        app.query_one(ReloadStatusPanel).wake()
        for _ in range(100):
            await pilot.pause(0.05)
            if "change not served" not in screen_text(app):
                break
        text = screen_text(app)
        assert "change not served" not in text and "#7" in text and "served" in text


async def test_without_a_supervisor_the_panel_says_so() -> None:
    app = Host(ReloadStatusPanel(FakeReloadStatus(None)))  # type: ignore[arg-type]
    async with app.run_test(size=(120, 20)) as pilot:
        await pilot.pause(0.2)
        assert "no status from the code server" in screen_text(app)
