"""CPU and memory of every running service and run container over the last minutes (`c` on the services
panel): a row per container with two of Textual's Sparklines fed by Docker's stats stream (one sample a
second, pushed by the engine; docker/resource_stats.py). The streams run while this screen is shown; the
last three minutes of each container are kept (bounded), so the graphs start from what was seen before."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Sparkline, Static

from edp_tui.docker.models import RunState
from edp_tui.docker.resource_stats import ResourceStatsSource, Sample
from edp_tui.ui.notify import literal, report

if TYPE_CHECKING:
    from textual.app import App

# How often the rows are redrawn from the history. A graph is at most 36 columns wide (the CSS below) over
# three minutes: five seconds of the window per column, so a redraw every five seconds adds one column each
# time. The redraw, not Docker's stream, is the screen's cost at rest (docs/performance.md has the profile).
REDRAW_S = 5.0


@dataclass(frozen=True)
class Target:
    label: str
    container_id: str


def cpu_text(samples: list[Sample]) -> Text:
    last = next((s.cpu_percent for s in reversed(samples) if s.cpu_percent is not None), None)
    return Text("-" if last is None else f"{last:5.1f}%", justify="right")


def memory_text(samples: list[Sample]) -> Text:
    last = next((s.memory_bytes for s in reversed(samples) if s.memory_bytes is not None), None)
    return Text("-" if last is None else f"{last / (1 << 20):,.0f} MiB", justify="right")


def graph(classes: str) -> Sparkline:
    line = Sparkline([], summary_function=max, classes=classes)
    # A graph holds no links: Textual's link styling walks every bar's segment of every line at each redraw
    # (a sixth of a redraw's cost in the profile).
    line.auto_links = False
    return line


class ResourceRow(Horizontal):
    DEFAULT_CSS = """
    ResourceRow { height: 2; margin-bottom: 1; }
    ResourceRow > .name { width: 24; }
    ResourceRow > Sparkline { width: 1fr; max-width: 36; height: 2; margin: 0 1; }
    ResourceRow > .cpu { width: 7; }
    ResourceRow > .memory { width: 10; }
    """

    def __init__(self, target: Target) -> None:
        super().__init__()
        self.target = target
        self.drawn_at: float | None = None  # the time of the newest sample drawn

    def compose(self) -> ComposeResult:
        yield Static(literal(self.target.label), classes="name")
        yield graph("cpu-graph")
        yield Static(classes="cpu")
        yield graph("memory-graph")
        yield Static(classes="memory")

    def show(self, samples: list[Sample]) -> None:
        newest = samples[-1].at if samples else None
        if newest == self.drawn_at and self.drawn_at is not None:
            return  # nothing new for this container (stopped, or its stream ended): nothing to draw
        self.drawn_at = newest
        self.draw_graphs(samples)

    def draw_graphs(self, samples: list[Sample]) -> None:
        cpu = [s.cpu_percent for s in samples if s.cpu_percent is not None]
        memory = [float(s.memory_bytes) for s in samples if s.memory_bytes is not None]
        self.query_one(".cpu-graph", Sparkline).data = cpu
        self.query_one(".memory-graph", Sparkline).data = memory
        # Fixed widths: no layout pass for a new figure (Static.update's default asks one of the screen).
        self.query_one(".cpu", Static).update(cpu_text(samples), layout=False)
        self.query_one(".memory", Static).update(memory_text(samples), layout=False)


class ResourcesScreen(Screen[None]):
    BINDINGS = [Binding("escape,q,c", "close", "Close", id="resources.close")]

    HELP = """\
## CPU and memory

Every running service and run container: its CPU (percent of one core, as `docker stats`) and memory
(without the page cache) over the last three minutes, oldest to newest left to right, each graph scaled to
its own range, with the latest value beside it. The samples come from Docker's stats stream (one a second),
read while this screen is shown, redrawn every five seconds (a column of a graph). **escape** returns.
"""

    DEFAULT_CSS = """
    ResourcesScreen #resources-title { height: 1; padding: 0 1; }
    ResourcesScreen #resources-head { height: 1; padding: 0 1; text-style: bold; }
    ResourcesScreen #resources-head > .name { width: 24; }
    ResourcesScreen #resources-head > .graph { width: 1fr; max-width: 36; margin: 0 9 0 1; }
    ResourcesScreen #resource-rows { height: 1fr; padding: 0 1; }
    """

    def __init__(self, stats: ResourceStatsSource, targets: Callable[[], list[Target]]) -> None:
        super().__init__()
        self.stats = stats
        self.targets = targets
        self.shown: list[Target] = []
        self.drawn_version = -1
        self.redraws = 0

    def compose(self) -> ComposeResult:
        yield Static(Text("CPU and memory · Docker's stats stream", style="bold"), id="resources-title")
        with Horizontal(id="resources-head"):
            yield Static("container", classes="name")
            yield Static("CPU, % of a core (3 min)", classes="graph")
            yield Static("memory (3 min)", classes="graph")
        yield VerticalScroll(id="resource-rows")
        yield Footer()

    async def on_mount(self) -> None:
        # The screen is mounted only while it is shown (escape pops it): so is this timer.
        await self.tick()
        self.set_interval(REDRAW_S, self.tick)

    async def tick(self) -> None:
        targets = self.targets()
        if targets != self.shown:
            await self._rebuild(targets)
        version = self.stats.history.version
        if version != self.drawn_version:
            self.drawn_version = version
            for row in self.query(ResourceRow):
                row.show(self.stats.history.samples(row.target.container_id))
            self.redraws += 1

    async def _rebuild(self, targets: list[Target]) -> None:
        ids = [t.container_id for t in targets]
        self.stats.retain(ids)
        self.stats.follow(ids)
        self.shown = targets
        rows = self.query_one("#resource-rows", VerticalScroll)
        await rows.remove_children()
        if not targets:
            await rows.mount(Static(Text("no running container", style="dim")))
        else:
            await rows.mount_all(ResourceRow(t) for t in targets)
        self.drawn_version = -1

    def on_unmount(self) -> None:
        self.stats.retain(())  # no stream while the graphs are not on screen

    def action_close(self) -> None:
        self.dismiss(None)


def open_resource_graphs(app: App[object]) -> None:
    stats = getattr(getattr(app, "backends", None), "resource_stats", None)
    if stats is None:
        report(app, "no resource statistics here (the dashboard has no Docker engine)", severity="warning")
        return
    main = app.screen  # the panels live on the dashboard's screen, under this one
    app.push_screen(ResourcesScreen(stats, lambda: running_targets_from(main)))


def running_targets_from(main: Screen[object]) -> list[Target]:
    """The running services (in the compose file's order), then the running run containers."""
    from edp_tui.ui.widgets.run_containers import RunContainersPanel
    from edp_tui.ui.widgets.services_panel import ServicesPanel

    found: list[Target] = []
    for state in main.query_one(ServicesPanel).states:
        if state.state is RunState.RUNNING and state.container_id:
            found.append(Target(state.service, state.container_id))
    for panel in main.query(RunContainersPanel):
        for container in panel.containers.values():
            if container.state == "running":
                found.append(Target(f"run {container.run_id[:8]} {container.job}", container.container_id))
    return found
