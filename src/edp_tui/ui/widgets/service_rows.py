"""One service as cells of a row (the services table, the service detail screen) and as an item of the compact
strip."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from edp_tui.docker.models import Health, RunState, ServiceState
from edp_tui.text import printable
from edp_tui.util import fmt

_STATE_STYLE = {
    RunState.RUNNING: "green",
    RunState.EXITED: "bold red",
    RunState.DEAD: "bold red",
    RunState.RESTARTING: "bold yellow",
    RunState.PAUSED: "yellow",
    RunState.CREATED: "dim",
    RunState.REMOVING: "dim",
    RunState.MISSING: "dim italic",
    RunState.UNKNOWN: "dim",
}
_HEALTH_STYLE = {
    Health.HEALTHY: "green",
    Health.UNHEALTHY: "bold red",
    Health.STARTING: "yellow",
    Health.NONE: "dim",
}
PROBE_WIDTH = 30


def probe_summary(state: ServiceState, width: int = PROBE_WIDTH) -> Text:
    """The last health probe in one line: exit code and the start of its output, shown literally."""
    probe = state.last_probe
    if probe is None:
        return Text("")
    output = printable(" ".join(probe.output.split()))
    if len(output) > width:
        output = output[: width - 1] + "…"
    return Text.assemble(
        (f"exit {probe.exit_code}", "green" if probe.passed else "bold red"),
        (": " if output else ""),
        output,
    )


def row_cells(state: ServiceState, now: datetime) -> dict[str, Text]:
    health = state.health.value if state.health is not Health.NONE else "-"
    return {
        "service": Text(printable(state.service), style="bold"),
        "state": Text(
            state.state_label + (" OOM" if state.oom_killed else ""), style=_STATE_STYLE[state.state]
        ),
        "health": Text(health, style=_HEALTH_STYLE[state.health]),
        "streak": Text(str(state.failing_streak), style="bold red") if state.failing_streak else Text(""),
        "probe": probe_summary(state),
        "restarts": Text("")
        if state.state is RunState.MISSING
        else Text(str(state.restart_count), style="yellow" if state.restart_count else "dim"),
        "uptime": Text(fmt.duration(state.uptime(now), coarse=True)),
        "image": Text(printable(state.image or "")),
        "ports": Text(", ".join(str(p) for p in state.ports)),
    }


def strip_item(state: ServiceState) -> Text:
    """One service in the compact strip: ● name, plus its state when it is not running and healthy."""
    fine = state.state is RunState.RUNNING and state.health in (Health.HEALTHY, Health.NONE)
    if fine:
        mark, style = "●", "bold green"
    elif state.state is RunState.RUNNING and state.health is Health.STARTING:
        mark, style = "●", "bold yellow"
    elif state.state in (RunState.MISSING, RunState.UNKNOWN, RunState.CREATED):
        mark, style = "○", "dim"
    else:
        mark, style = "✖", "bold red"
    item = Text.assemble((mark, style), " ", (printable(state.service), "bold"))
    if not fine and state.state is not RunState.MISSING:  # ○ alone says "no container"
        detail = state.state_label if state.state is not RunState.RUNNING else state.health.value
        if state.failing_streak:
            detail += f" ×{state.failing_streak}"
        item.append(f" {detail}", style=style if style != "dim" else "dim italic")
    return item
