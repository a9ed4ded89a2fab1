"""Container logs against a real engine: a 200k-line container tailed with memory bounded, a container removed
while tailed, stop/start without duplicates, the all-services view interleaved by time, and the engine cut
and restored through a socket proxy (the real daemon is never touched: others use it)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from edp_tui.docker.endpoint import DockerEndpoint, resolve_endpoint
from edp_tui.docker.logs import DockerLogSource, LogEvent, backlog_by_key
from edp_tui.text import LogLine
from edp_tui.ui.widgets.logs_panel import LogsPanel
from tests.support.docker_engine import base_image
from tests.support.pilot import Host, until
from tests.support.waiting import wait_for

SIZE = (140, 30)
FLOOD_LINES = 200_000


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Project:
    """Containers labelled like Compose's, under a unique project name; all removed at the end."""

    def __init__(self) -> None:
        self.name = f"edplogs{uuid.uuid4().hex[:8]}"
        self.client = docker.from_env()
        self.image = base_image()
        self.containers: list[Any] = []

    def run(self, service: str, script: str) -> Any:
        container = self.client.containers.run(
            self.image,
            ["sh", "-c", script],
            name=f"{self.name}-{service}-1",
            labels={"com.docker.compose.project": self.name, "com.docker.compose.service": service},
            detach=True,
            init=True,
        )
        self.containers.append(container)
        return container

    def close(self) -> None:
        for c in self.containers:
            try:
                c.remove(force=True)
            except docker.errors.NotFound:
                pass
        self.client.close()


@pytest.fixture
def project() -> Iterator[Project]:
    p = Project()
    try:
        yield p
    finally:
        p.close()


def texts(panel: LogsPanel) -> list[str]:
    return [ln.text for ln in panel.view.buffer]


async def test_flood_of_200k_lines_is_tailed_with_memory_bounded(project: Project) -> None:
    project.run(
        "flood", f"seq -f 'flood line %.0f with some payload text' 1 {FLOOD_LINES}; exec sleep infinity"
    )
    panel = LogsPanel(DockerLogSource(project.name), service="flood", max_lines=5_000, max_bytes=1 << 20)
    panel.backlog = backlog_by_key("all")
    app = Host(panel)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.5)
        rss_before = rss_kib()
        last = f"flood line {FLOOD_LINES} with some payload text"
        peak = rss_before
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            buf = panel.view.buffer
            # The bounds hold at every moment, not only at the end.
            assert len(buf) <= 5_000 and buf.nbytes <= 1 << 20
            peak = max(peak, rss_kib())
            if len(buf) and buf[-1].text == last:
                break
            await pilot.pause(0.2)
        else:
            raise AssertionError(
                f"the last line never arrived (have {panel.view.lines_widget.lines_received})"
            )
        panel.view.flush_now()
        await pilot.pause()
        received = panel.view.lines_widget.lines_received
        dropped_early = panel.view.pending_dropped  # queued beyond max_lines between two flushes
        data_lines = [t for t in texts(panel) if t.startswith("flood line")]
        # Every line reached the view exactly once: shown (then maybe evicted) or dropped before a flush
        # because more than max_lines were queued; only the newest are kept.
        messages = sum(1 for ln in panel.view.buffer if ln.stream == 0)
        assert FLOOD_LINES <= received + dropped_early <= FLOOD_LINES + messages + 10
        assert data_lines[-1] == last
        numbers = [int(t.split()[2]) for t in data_lines]
        assert numbers == list(range(numbers[0], FLOOD_LINES + 1))
        assert panel.view.buffer.dropped_lines + panel.view.pending_dropped >= FLOOD_LINES - 5_000
        assert last in panel.view.lines_widget.visible_text()
        growth_mib = (peak - rss_before) / 1024
        print(f"\nRSS before {rss_before / 1024:.1f} MiB, peak growth {growth_mib:.1f} MiB, {received} lines")
        # 200k lines of ~40 bytes are ~8 MB of text: the view keeps 1 MiB of it. The margin covers the
        # interpreter's arenas and Textual's own caches; an unbounded buffer would grow by tens of MB more.
        assert growth_mib < 60, f"RSS grew {growth_mib:.1f} MiB"


async def test_container_removed_while_tailed_is_reported_in_the_pane(project: Project) -> None:
    c = project.run("ticker", "i=0; while true; i=$((i+1)); do echo tick $i; sleep 0.1; done")
    panel = LogsPanel(DockerLogSource(project.name), service="ticker")
    app = Host(panel)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: any(t.startswith("tick 5") for t in texts(panel)), 30, "ticks")
        c.remove(force=True)
        await until(pilot, lambda: panel.problem is not None and "removed" in panel.problem, 30, "removal")
        panel.view.flush_now()
        await pilot.pause()
        assert any("was removed" in t for t in texts(panel))
        assert any("was removed" in row for row in panel.view.lines_widget.visible_text())
        title = str(app.query_one("#logs-title").render())
        assert "removed" in title


def _follow(
    source: DockerLogSource, service: str | None, key: str = "all"
) -> tuple[Any, list[LogLine], list[LogEvent]]:
    lines: list[LogLine] = []
    events: list[LogEvent] = []
    lock = threading.Lock()

    def on_lines(batch: list[LogLine]) -> None:
        with lock:
            lines.extend(batch)

    follower = source.follow(service, backlog_by_key(key), on_lines, events.append)
    threading.Thread(target=follower.run, daemon=True).start()
    return follower, lines, events


def test_stop_and_start_are_followed_without_duplicates(project: Project) -> None:
    c = project.run(
        "counter", "r=$(date +%s%N); i=0; while true; i=$((i+1)); do echo n $r-$i; sleep 0.05; done"
    )
    follower, lines, events = _follow(DockerLogSource(project.name), "counter")
    try:
        wait_for("first lines", lambda: len(lines) >= 20, 30)
        c.stop(timeout=1)
        wait_for("stopped event", lambda: any(e.kind == "stopped" for e in events), 30)
        c.start()
        wait_for("re-attached", lambda: len([e for e in events if e.kind == "attached"]) >= 2, 30)
        n = len(lines)
        wait_for("lines after restart", lambda: len(lines) >= n + 20, 30)
    finally:
        follower.stop()
    data = [ln.text for ln in lines if ln.stream == 1]
    assert len(data) == len(set(data)), "a line was delivered twice"
    stamps = [ln.timestamp for ln in lines if ln.stream == 1]
    assert stamps == sorted(stamps)  # type: ignore[type-var]
    assert len({t.split()[1].split("-")[0] for t in data}) == 2  # lines of both runs


def test_all_services_are_interleaved_by_time_and_tagged(project: Project) -> None:
    alpha = project.run(
        "alpha", "for i in $(seq 1 40); do echo alpha $i; sleep 0.03; done; exec sleep infinity"
    )
    beta = project.run("beta", "for i in $(seq 1 40); do echo beta $i; sleep 0.03; done; exec sleep infinity")
    # Both are done writing before the follower starts: the whole backlog is merged by timestamp.
    wait_for("both writers done", lambda: b"alpha 40\n" in alpha.logs() and b"beta 40\n" in beta.logs(), 60)
    follower, lines, events = _follow(DockerLogSource(project.name), None, "all")
    try:
        wait_for("both backlogs", lambda: len([ln for ln in lines if ln.stream == 1]) >= 80, 30)
        project.run("gamma", "for i in $(seq 1 5); do echo gamma $i; done; exec sleep infinity")
        wait_for("a new service's container", lambda: any(ln.service == "gamma" for ln in lines), 30)
    finally:
        follower.stop()
    data = [ln for ln in lines if ln.stream == 1]
    assert {ln.service for ln in data} == {"alpha", "beta", "gamma"}
    assert all(ln.text.split()[0] == ln.service for ln in data)  # each line tagged with its own service
    backlog = data[:80]
    assert [ln.timestamp for ln in backlog] == sorted(ln.timestamp or "" for ln in backlog)
    # Really interleaved, not one service after the other.
    switches = sum(1 for a, b in zip(backlog, backlog[1:], strict=False) if a.service != b.service)
    assert switches > 20


def test_engine_cut_and_restored_is_reported_and_resumed(project: Project, tmp_path: Path) -> None:
    from tests.e2e.test_docker_side import UnixSocketProxy

    endpoint, _ = resolve_endpoint()
    if not endpoint.startswith("unix://"):
        pytest.skip(f"the socket proxy forwards unix sockets only; engine is at {endpoint}")
    path = Path("/tmp") / f"edplogs-proxy-{uuid.uuid4().hex[:8]}.sock"
    proxy = UnixSocketProxy(path, endpoint[len("unix://") :])
    project.run("steady", "i=0; while true; i=$((i+1)); do echo s $i; sleep 0.05; done")
    source = DockerLogSource(project.name, DockerEndpoint.resolve(f"unix://{path}"))
    follower, lines, events = _follow(source, "steady")
    try:
        wait_for("first lines", lambda: len(lines) >= 10, 30)
        proxy.cut()
        wait_for("unreachable event", lambda: any(e.kind == "engine_unreachable" for e in events), 30)
        n = len(lines)
        time.sleep(1.0)  # lines written meanwhile must show up after the reconnection
        proxy.restore()
        wait_for("engine back", lambda: any(e.kind == "engine_back" for e in events), 30)
        wait_for("lines after the reconnection", lambda: len(lines) >= n + 40, 30)
    finally:
        follower.stop()
        proxy.close()
    data = [int(ln.text.split()[1]) for ln in lines if ln.stream == 1]
    assert data == list(range(data[0], data[0] + len(data))), "lines lost or repeated across the outage"
    assert any("unreachable" in ln.text for ln in lines if ln.stream == 0)
