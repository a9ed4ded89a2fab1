#!/usr/bin/env python3
"""Write docs/dashboard.svg: a screenshot of the real dashboard, for the README.

    .venv/bin/python scripts/screenshot.py                  # the running stack, as `edp-tui` would see it
    .venv/bin/python scripts/screenshot.py --webserver-url http://127.0.0.1:3000 --tab tab-locations
    .venv/bin/python scripts/screenshot.py --fake           # in-memory stand-ins (the TUI tests' fakes)

The app is the real EdpApp run headless (Textual's run_test) with the same configuration as the `edp-tui`
command (flags here > EDP_TUI_* > config file). Each backend is used for real when it answers: the Docker
engine when the compose project has containers, the Dagster webserver when it responds. A backend that does
not answer is replaced by the fake the TUI tests use, and the script says so on stderr, so a picture is
always produced and it is always clear what it shows.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO / "docs" / "dashboard.svg"
TABS = ("tab-logs", "tab-runs", "tab-locations", "tab-schedules")


def say(message: str) -> None:
    print(f"[screenshot] {message}", file=sys.stderr)


def fakes() -> tuple[Any, Any]:
    """The in-memory Docker source and Dagster client of the TUI tests."""
    sys.path.insert(0, str(REPO / "tests" / "tui"))
    from datetime import timedelta

    from dagster_fake import FakeDagster  # type: ignore[import-not-found]
    from shell_fakes import SERVICES, FakeDockerSource, running  # type: ignore[import-not-found]

    from edp_tui.docker.models import PortBinding

    # A healthy stack with the compose file's images and port (the tests' default fake shows failures).
    states = [
        running(
            name,
            up=timedelta(minutes=42 - 3 * i),
            image="edp-local/postgres:15" if name == "postgres" else "edp-dagster:latest",
            ports=(PortBinding("3000/tcp", "127.0.0.1", "3000"),) if name == "dagster-webserver" else (),
        )
        for i, name in enumerate(SERVICES)
    ]
    return FakeDockerSource(states=states), FakeDagster()


def fake_clock() -> Any:
    """The fakes' fixed "now", so that uptimes read as in the tests."""
    from shell_fakes import fixed_now  # type: ignore[import-not-found]

    return fixed_now


def real_docker(context: Any) -> tuple[Any, str] | None:
    """(DockerSource, project name) when the engine answers and the project has at least one container."""
    from edp_tui.backends import docker_endpoint
    from edp_tui.compose import ComposeError
    from edp_tui.docker.errors import DockerError
    from edp_tui.docker.models import RunState
    from edp_tui.docker.services import DockerSource

    try:
        compose = context.compose_project()
    except ComposeError as exc:
        say(f"Compose: {exc}")
        return None
    source = DockerSource(compose.name, compose.service_names, docker_endpoint(context.config))
    try:
        states = source.snapshot()
    except DockerError as exc:
        say(f"Docker: {exc}")
        source.close()
        return None
    if all(s.state is RunState.MISSING for s in states):
        say(f"Docker: project {compose.name} has no containers")
        source.close()
        return None
    return source, compose.name


async def webserver_answers(url: str) -> bool:
    from edp_tui.dagster.client import DagsterClient
    from edp_tui.dagster.errors import DagsterError

    async with DagsterClient(url.rstrip("/") + "/graphql", timeout=20.0) as client:
        try:
            await client.locations()
        except DagsterError as exc:
            say(f"Dagster: {exc}")
            return False
    return True


async def shoot(args: argparse.Namespace) -> Path:
    from edp_tui.backends import Backends, dagster_client, docker_endpoint
    from edp_tui.cli.common import Context
    from edp_tui.config import load_config
    from edp_tui.docker.logs import DockerLogSource
    from edp_tui.docker.run_containers import DockerRunContainers
    from edp_tui.reload_status.reader import ContainerReloadStatus
    from edp_tui.ui.app import EdpApp

    flags = {
        "webserver_url": args.webserver_url,
        "compose_file": args.compose_file,
        "env_file": args.env_file,
        "project": args.project,
    }
    context = Context(load_config(flags, config_path=args.config))
    fake_docker, fake_dagster = fakes() if args.fake else (None, None)

    docker = None if args.fake else real_docker(context)
    if docker is None:
        fake_docker = fake_docker or fakes()[0]
        source, project, what_docker = fake_docker, "edp", "fake Docker source"
        clock = fake_clock()
    else:
        clock = None
        source, project = docker
        what_docker = f"Docker engine {source.endpoint}"

    url = context.webserver_url()
    dagster = dagster_client(context.config, url)
    what_dagster = f"Dagster webserver {url}"
    if args.fake or not await webserver_answers(url):
        await dagster.aclose()
        dagster = fake_dagster or fakes()[1]
        what_dagster = "fake Dagster client"
    say(f"using {what_docker} and {what_dagster}")

    backends = Backends(
        project=project,
        webserver_url=url,
        services=source,
        logs=DockerLogSource(project, docker_endpoint(context.config)),
        dagster=dagster,
        reload_status=ContainerReloadStatus(project, docker_endpoint(context.config)),
        run_containers=DockerRunContainers(project, docker_endpoint(context.config)),
    )
    app = EdpApp(context.config, backends, now=clock)
    width, height = args.size
    async with app.run_test(size=(width, height)) as pilot:
        if args.tab != "tab-logs":
            from textual.widgets import TabbedContent

            app.query_one("#main", TabbedContent).active = args.tab
        # Wait until every backend has answered once (the header says so), then let the panels settle.
        deadline = asyncio.get_running_loop().time() + args.deadline
        while asyncio.get_running_loop().time() < deadline:
            await pilot.pause()
            if not any(marker in screen_text(app) for marker in PENDING):
                break
            await asyncio.sleep(0.5)
        else:
            say(f"some backend had not answered after {args.deadline:.0f}s; the picture shows that")
        await asyncio.sleep(args.settle)
        await pilot.pause()
        svg = app.export_screenshot(title="edp-tui")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(svg, encoding="utf-8")
    return args.output


# What the header shows until a backend has answered for the first time.
PENDING = ("connecting…", "not checked", "loading…")


def screen_text(app: Any) -> str:
    """The terminal's current text (as the TUI tests read it)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected COLUMNSxROWS, e.g. 140x40, got {text!r}") from None
    if not (60 <= width <= 400 and 20 <= height <= 200):
        raise argparse.ArgumentTypeError("size must be between 60x20 and 400x200")
    return width, height


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"default: {DEFAULT_OUTPUT}")
    parser.add_argument("--size", type=size, default=(140, 40), help="terminal COLUMNSxROWS (default 140x40)")
    parser.add_argument("--tab", choices=TABS, default="tab-runs", help="main-area tab to show")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds to let the panels settle")
    parser.add_argument(
        "--deadline", type=float, default=90.0, help="seconds to wait for every backend's first answer"
    )
    parser.add_argument("--webserver-url", help="Dagster webserver (default: as edp-tui resolves it)")
    parser.add_argument("--compose-file", type=Path, help="compose file (default: as edp-tui resolves it)")
    parser.add_argument("--env-file", type=Path, help="env file passed to Compose")
    parser.add_argument("--project", "-p", help="Compose project name")
    parser.add_argument("--config", type=Path, help="edp-tui config file")
    parser.add_argument("--fake", action="store_true", help="use the in-memory fakes for both backends")
    args = parser.parse_args(argv)
    from edp_tui.config import ConfigError

    try:
        path = asyncio.run(shoot(args))
    except ConfigError as exc:
        print(f"screenshot: {exc}", file=sys.stderr)
        return 2
    say(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
