"""The Assets tab's check detail: a failed dbt test's failing rows, compiled SQL and file on one screen
(literal text), `o` opening the file at its line in $EDITOR through the app's terminal (a recorder here)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from dagster_fake import FakeDagster
from shell_fakes import FakeServices, fake_backends, fixed_now, highlight_asset  # noqa: E402

from edp_tui.config import Config
from edp_tui.dagster.check_detail import CheckExecution
from edp_tui.ui.app import EdpApp
from edp_tui.ui.screens.check_detail import CheckDetailScreen
from edp_tui.ui.widgets.dagster.assets import AssetsPanel
from tests.support.pilot import screen_text, until, wait_shown

KEY = ("staging", "stg_orders")
CHECK = "accepted_values_stg_orders_status"
ROWS = "| order_id | status |\n|---|---|\n| 7 | [bold]lost[/] |\n| 9 | a \\| b |"
SQL = "```sql\nselect * from shop_staging.stg_orders\nwhere status not in ('placed', 'shipped')\n```"


def execution(file: str = "dbt_project/models/staging/schema.yml") -> CheckExecution:
    return CheckExecution(
        "b2c3d4e5-0000-0000-0000-000000000002",
        "FAILED",
        1_767_355_000.0,
        "ERROR",
        None,
        (
            ("dagster_dbt/failed_row_count", 12),
            ("dbt/failures_relation", '"warehouse"."etl_pipeline_dbt_failures"."accepted_values"'),
            ("dbt/failing_rows", ROWS),
            ("dbt/compiled_sql", SQL),
            ("dbt/file", file),
            ("dbt/line", 14),
            ("dbt/model_file", "dbt_project/models/staging/stg_orders.sql"),
        ),
    )


class RecordingTerminal:
    def __init__(self) -> None:
        self.runs: list[list[str]] = []

    def run(self, app: Any, argv: list[str], *, env: dict[str, str], wait: bool, what: str) -> int:
        self.runs.append(argv)
        return 0


def make_app(fake: FakeDagster, code_dir: Path) -> tuple[EdpApp, RecordingTerminal]:
    backends = fake_backends(FakeServices(), fake)
    backends.code_dir = code_dir
    app = EdpApp(Config(compose_file=Path("/nonexistent/compose.yaml")), backends, now=fixed_now)
    terminal = RecordingTerminal()
    app.terminal = terminal  # type: ignore[assignment]
    return app, terminal


async def open_detail(pilot: Any, app: EdpApp) -> CheckDetailScreen:
    await highlight_asset(pilot, app, KEY)
    await pilot.press("d")
    await until(pilot, lambda: isinstance(app.screen, CheckDetailScreen))
    screen = app.screen
    assert isinstance(screen, CheckDetailScreen)
    await until(pilot, lambda: screen.loaded)
    return screen


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_a_failed_dbt_test_shows_its_rows_sql_and_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    source = tmp_path / "dbt_project" / "models" / "staging" / "schema.yml"
    source.parent.mkdir(parents=True)
    source.write_text("version: 2\n")
    monkeypatch.setenv("VISUAL", "nvim -p")
    fake = FakeDagster()
    fake.check_executions[(KEY, CHECK)] = execution()
    app, terminal = make_app(fake, tmp_path)
    async with app.run_test(size=size) as pilot:
        screen = await open_detail(pilot, app)
        # The highlighted asset's first failed check (no check row had the focus).
        assert screen.check.name == CHECK and ("check_execution", (KEY, CHECK)) in fake.calls
        text = await wait_shown(pilot, "failing rows", "schema.yml:14")
        assert "12" in text
        rows = screen.query_one("#check-rows")
        assert [str(c.label) for c in rows.columns.values()] == ["order_id", "status"]  # type: ignore[attr-defined]
        # Literal: a value that looks like markup is text; an escaped pipe is a pipe inside its cell.
        assert [str(v) for v in rows.get_row_at(0)] == ["7", "[bold]lost[/]"]  # type: ignore[attr-defined]
        assert [str(v) for v in rows.get_row_at(1)] == ["9", "a | b"]  # type: ignore[attr-defined]
        if size == (200, 60):
            await wait_shown(pilot, "a sample of the failing rows (2 of 12)", "where status not in")
        await pilot.press("o")
        await until(pilot, lambda: len(terminal.runs) == 1)
        assert terminal.runs[0] == ["nvim", "-p", "+14", str(source)]
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, CheckDetailScreen))


async def test_a_file_not_on_this_host_is_said_and_nothing_runs(tmp_path: Path) -> None:
    fake = FakeDagster()
    fake.check_executions[(KEY, CHECK)] = execution("elsewhere/schema.yml")
    app, terminal = make_app(fake, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_detail(pilot, app)
        await pilot.press("o")
        await until(
            pilot, lambda: any("does not exist on this host" in n.message for n in app._notifications)
        )
        assert terminal.runs == []


async def test_a_check_never_executed_says_so(tmp_path: Path) -> None:
    app, _ = make_app(FakeDagster(), tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_detail(pilot, app)
        await wait_shown(pilot, "never executed")
        assert "failing rows" not in screen_text(app)


async def test_the_check_row_under_the_cursor_is_the_one_shown(tmp_path: Path) -> None:
    fake = FakeDagster()
    app, _ = make_app(fake, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await highlight_asset(pilot, app, KEY)
        checks = app.query_one(AssetsPanel).checks_table
        await until(pilot, lambda: checks.row_count == 3)
        checks.focus()
        await pilot.press("down", "down")  # the third check, not the first failed one (the second)
        await until(pilot, lambda: checks.cursor_row == 2)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, CheckDetailScreen))
        assert isinstance(app.screen, CheckDetailScreen)
        assert app.screen.check.name == "not_null_stg_orders_order_date"
