"""`E` and the container commands, with the terminal replaced by a recorder (the app "suspends" by calling
it): the argv, the refusals (read-only, no running container, no selected run), the question first for a
dangerous command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from dagster_fake import FakeDagster
from shell_fakes import FakeServices, fake_backends, fixed_now  # noqa: E402

from edp_tui.config import Config
from edp_tui.container_commands import SHELL, ContainerCommand
from edp_tui.ui.app import EdpApp
from edp_tui.ui.container_shell import run_command
from edp_tui.ui.screens.confirm import ConfirmScreen
from edp_tui.ui.widgets.dagster.runs import RunsPanel
from tests.support.pilot import until

SIZE = (150, 40)


class RecordingTerminal:
    def __init__(self) -> None:
        self.runs: list[dict[str, Any]] = []

    def run(self, app: Any, argv: list[str], *, env: dict[str, str], wait: bool, what: str) -> int:
        self.runs.append({"argv": argv, "wait": wait, "what": what, "docker_host": env.get("DOCKER_HOST")})
        return 0


def make_app(**config: Any) -> tuple[EdpApp, RecordingTerminal]:
    app = EdpApp(
        Config(compose_file=Path("/nonexistent/compose.yaml"), **config),
        fake_backends(FakeServices(), FakeDagster()),
        now=fixed_now,
    )
    app.terminal = RecordingTerminal()  # type: ignore[assignment]
    assert isinstance(app.terminal, RecordingTerminal)
    return app, app.terminal


def toasts(app: EdpApp) -> list[str]:
    return [n.message for n in app._notifications]


def docker_exec(container: str, argv: tuple[str, ...] | list[str]) -> list[str]:
    return ["exec", "-it", container, *argv]


async def test_e_opens_a_shell_in_the_selected_container_and_comes_back() -> None:
    app, terminal = make_app(docker_host="tcp://10.0.0.5:2376")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.services_panel.populated)
        await pilot.press("down")  # user-code
        await pilot.press("E")
        await until(pilot, lambda: len(terminal.runs) == 1)
        [run] = terminal.runs
        assert run["argv"][1:] == docker_exec("edp-user-code-1", SHELL) and run["wait"] is False
        assert run["docker_host"] == "tcp://10.0.0.5:2376"
        assert app.focused is app.services_panel.table  # back where it was


async def test_no_shell_without_a_running_container_nor_in_read_only_mode() -> None:
    app, terminal = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.services_panel.populated)
        await pilot.press("down", "down")  # dagster-webserver: exited(137)
        await pilot.press("E")
        await until(pilot, lambda: any("no running container" in t for t in toasts(app)))
        assert terminal.runs == []
    app, terminal = make_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.services_panel.populated)
        await pilot.press("E")
        await until(pilot, lambda: "Read-only mode: shell in postgres refused" in toasts(app))
        assert terminal.runs == []


async def test_a_dangerous_command_asks_first_and_is_refused_in_read_only_mode() -> None:
    app, terminal = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.services_panel.populated)
        await pilot.press("ctrl+p")
        await pilot.press(*"psql on the warehouse")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert terminal.runs == []
        await pilot.press("y")
        await until(pilot, lambda: len(terminal.runs) == 1)
        assert terminal.runs[0]["argv"][1:4] == ["exec", "-it", "edp-postgres-1"]
        assert "psql" in terminal.runs[0]["argv"][-1]
    app, terminal = make_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.services_panel.populated)
        psql = next(c for c in app.config.commands if c.name == "psql on the warehouse")
        run_command(app, psql)
        await until(pilot, lambda: any("Read-only mode" in t for t in toasts(app)))
        assert terminal.runs == [] and not isinstance(app.screen, ConfirmScreen)


async def test_a_command_of_the_selected_run_needs_one_and_gets_it() -> None:
    export = ContainerCommand(
        "export", "postgres", ("dagster", "debug", "export", "{run_id}", "/tmp/{run_id}.gz")
    )
    app, terminal = make_app(commands=(export,))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.services_panel.populated)
        run_command(app, export)
        await until(pilot, lambda: any("select one in the Runs tab" in t for t in toasts(app)))
        assert terminal.runs == []
        await pilot.press("2")
        panel = app.query_one(RunsPanel)
        await until(pilot, lambda: panel.selected is not None)
        assert panel.selected is not None
        run_id = panel.selected.run_id
        run_command(app, export)
        await until(pilot, lambda: len(terminal.runs) == 1)
        assert terminal.runs[0]["argv"][4:] == ["dagster", "debug", "export", run_id, f"/tmp/{run_id}.gz"]
        assert terminal.runs[0]["wait"] is True
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Run: export", "Shell in postgres"} <= titles
