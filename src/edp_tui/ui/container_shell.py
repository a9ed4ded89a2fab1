"""A shell (`E` on the services panel) and the config file's commands in a service's container, run in this
terminal while the app is suspended (Textual's `App.suspend`); the app comes back when they end.

The shell is refused in read-only mode (it can change anything); a command marked ``dangerous`` asks first
and is refused in read-only mode (`ActionGuard`); the others run at once. The program runs through
`Terminal`, which tests replace with a recorder.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.app import SuspendNotSupported, SystemCommand

from edp_tui.container_commands import SHELL, CommandError, ContainerCommand, exec_argv
from edp_tui.docker.models import ServiceState
from edp_tui.ui.actions import ActionGuard
from edp_tui.ui.notify import report

if TYPE_CHECKING:
    from edp_tui.ui.app import EdpApp

RETURN_PROMPT = "\n[edp-tui] {what} ended ({code}). Press Enter to return to the dashboard. "


class Terminal:
    """Runs a program in the terminal while ``app`` is suspended; returns its exit code."""

    def run(self, app: Any, argv: Sequence[str], *, env: dict[str, str], wait: bool, what: str) -> int:
        with app.suspend():
            try:
                code = subprocess.run(list(argv), env=env, check=False).returncode
            except OSError as exc:
                print(f"[edp-tui] cannot run {argv[0]}: {exc}")
                code = 127
            if wait:
                try:
                    input(RETURN_PROMPT.format(what=what, code=f"exit code {code}"))
                except EOFError:
                    pass
        return code


def docker_env(app: EdpApp) -> dict[str, str]:
    env = dict(os.environ)
    if app.config.docker_host:  # else the docker CLI resolves DOCKER_HOST and its context as we do
        env["DOCKER_HOST"] = app.config.docker_host
    return env


def running_container(app: EdpApp, service: str) -> str | None:
    """The service's container when it runs, else None (said as a warning)."""
    state = app.services_panel.state_of(service) or ServiceState.missing(service)
    if not state.is_running or not state.container_name:
        label = state.state_label
        report(app, f"{service} has no running container ({label})", severity="warning")
        return None
    return state.container_name


def _run(app: EdpApp, container: str, argv: Sequence[str], *, wait: bool, what: str) -> None:
    try:
        full = exec_argv(container, argv)
        code = app.terminal.run(app, full, env=docker_env(app), wait=wait, what=what)
    except (CommandError, SuspendNotSupported) as exc:
        report(app, exc if isinstance(exc, CommandError) else f"cannot suspend the dashboard here: {exc}")
        return
    if code != 0 and not wait:
        report(app, f"{what} ended with exit code {code}", severity="warning")


def open_shell(app: EdpApp, service: str) -> None:
    if app.read_only:
        report(app, f"Read-only mode: shell in {service} refused", title="Read-only", severity="warning")
        return
    container = running_container(app, service)
    if container is not None:
        _run(app, container, SHELL, wait=False, what=f"shell in {service}")


def selected_run_id(app: EdpApp) -> str | None:
    from edp_tui.ui.widgets.dagster.runs import RunsPanel

    panels = app.query(RunsPanel)
    run = panels.first().selected if panels else None
    return run.run_id if run is not None else None


def run_command(app: EdpApp, command: ContainerCommand) -> None:
    container = running_container(app, command.service)
    if container is None:
        return
    try:
        argv = command.expand(container=container, run_id=selected_run_id(app))
    except CommandError as exc:
        report(app, exc)
        return
    if not command.dangerous:
        _run(app, container, argv, wait=command.wait, what=command.name)
        return

    async def work() -> None:
        _run(app, container, argv, wait=command.wait, what=command.name)

    guard = ActionGuard(app.services_panel, read_only=app.read_only)
    guard.start(command.name, work, confirm=f"Run {command.name} in {command.service} ({container})?")


def palette_commands(app: EdpApp, services: Sequence[str]) -> Iterator[SystemCommand]:
    for service in services:
        yield SystemCommand(
            f"Shell in {service}", "bash or sh in its container (key E)", partial(open_shell, app, service)
        )
    for command in app.config.commands:
        asks = " (asks first)" if command.dangerous else ""
        yield SystemCommand(
            f"Run: {command.name}", f"in {command.service}{asks}", partial(run_command, app, command)
        )
