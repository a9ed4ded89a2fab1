"""LogView and LogsPanel driven by in-memory lines and a fake log source (App.run_test + Pilot, snapshots)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from textual.app import App, ComposeResult
from textual.widgets import Select

from edp_tui.docker.logs import Backlog, LogEvent
from edp_tui.text import LogLine, make_line
from edp_tui.ui.widgets.log_view import LogLines, LogView
from edp_tui.ui.widgets.logs_panel import LogsPanel
from tests.support.pilot import until

SIZE = (100, 24)


def ts(i: int) -> str:
    return f"2024-05-01T10:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000:03d}000000Z"


def sample(n: int, service: str | None = None, start: int = 0) -> list[LogLine]:
    out = []
    for i in range(start, start + n):
        text = f"line {i} " + ("ERROR disk full" if i % 10 == 3 else "ok")
        out.append(make_line(text, service=service, timestamp=ts(i)))
    return out


class ViewApp(App[None]):
    def __init__(self, max_lines: int = 1000, max_bytes: int = 1 << 22) -> None:
        super().__init__()
        self.max_lines = max_lines
        self.max_bytes = max_bytes

    def compose(self) -> ComposeResult:
        yield LogView(max_lines=self.max_lines, max_bytes=self.max_bytes, source_label="test", id="view")

    @property
    def view(self) -> LogView:
        return self.query_one(LogView)

    @property
    def lines(self) -> LogLines:
        return self.query_one(LogLines)


def status(app: ViewApp) -> str:
    return app.view.status_text().plain


async def test_follow_shows_newest_lines_and_batches_updates() -> None:
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        for i in range(10):  # ten calls within one flush interval make one update
            app.view.append_lines(sample(10, start=i * 10))
        assert app.view.pending_count == 100
        assert len(app.view.buffer) == 0
        await until(pilot, lambda: app.view.pending_count == 0)
        assert len(app.view.buffer) == 100
        rows = app.lines.visible_text()
        assert rows[-1] == "line 99 ok"
        assert "following" in status(app)


async def test_markup_and_controls_are_shown_literally() -> None:
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        app.view.append_lines(
            [make_line("[bold red]not bold[/] \x1b[2Jerase \x07bell"), make_line(":smile:")]
        )
        app.view.flush_now()
        await pilot.pause()
        rows = app.lines.visible_text()
        assert "[bold red]not bold[/] ␛[2Jerase ␇bell" in rows
        assert ":smile:" in rows


async def test_scrolling_up_pauses_and_counts_new_lines() -> None:
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        app.view.append_lines(sample(100))
        app.view.flush_now()
        await pilot.pause()
        app.lines.focus()
        await pilot.press("pageup")
        await pilot.wait_for_scheduled_animations()  # page up scrolls with an animation
        await pilot.pause()
        assert not app.lines.following
        before = app.lines.visible_text()
        app.view.append_lines(sample(7, start=100))
        app.view.flush_now()
        await pilot.pause()
        assert app.lines.visible_text() == before  # the page being read does not move
        assert "+7 new lines" in status(app)
        await pilot.press("end")
        await pilot.pause()
        assert app.lines.following
        assert app.lines.visible_text()[-1] == "line 106 ok"
        assert "following" in status(app)


async def test_search_highlights_and_moves_between_matches() -> None:
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        app.view.append_lines(sample(100))
        app.view.flush_now()
        await pilot.pause()
        app.lines.focus()
        await pilot.press("slash", *"error", "enter")
        await pilot.pause()
        lines = app.lines
        assert lines.match_count == 10
        first = lines.current_match
        assert first is not None and "ERROR" in lines.buffer.get(first).text
        assert "/error: " in status(app) and "/10" in status(app)
        await pilot.press("n")
        second = lines.current_match
        assert second is not None and second > first
        assert lines.buffer.get(second).text in lines.visible_text()
        await pilot.press("N")
        assert lines.current_match == first
        await pilot.press("N")
        assert lines.current_match == first - 10
        # Past the last match, next wraps around to the first one.
        while lines.current_match != 93:
            await pilot.press("n")
        assert "10/10" in status(app)
        await pilot.press("n")
        assert lines.current_match == 3
        assert "1/10" in status(app)
        assert lines.visible_text()[0].startswith("line 0 ")
        await pilot.press("escape")
        assert lines.search is None


async def test_search_term_with_markup_is_literal() -> None:
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        app.view.append_lines([make_line("a [red] tag"), make_line("red alone")])
        app.view.flush_now()
        app.lines.focus()
        await pilot.press("slash", *"[red]", "enter")
        await pilot.pause()
        assert app.lines.match_count == 1
        assert "/[red]:" in status(app)


async def test_filter_hides_non_matching_lines() -> None:
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        app.view.append_lines(sample(100))
        app.view.flush_now()
        await pilot.pause()
        app.lines.focus()
        await pilot.press("f", *"error", "enter")
        await pilot.pause()
        rows = [r for r in app.lines.visible_text() if r]
        assert rows and all("ERROR" in r for r in rows)
        assert app.lines.row_count == 10
        assert "filter “error”: 10 of 100" in status(app)
        # New lines go through the filter too.
        app.view.append_lines(sample(20, start=100))
        app.view.flush_now()
        await pilot.pause()
        assert app.lines.row_count == 12
        await pilot.press("escape")
        await pilot.pause()
        assert app.lines.row_count == 120


async def test_timestamps_and_wrap_toggles() -> None:
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        long = make_line("x" * 250, timestamp=ts(1))
        app.view.append_lines([*sample(3), long])
        app.view.flush_now()
        await pilot.pause()
        app.lines.focus()
        await pilot.press("t")
        await pilot.pause()
        assert app.lines.visible_text()[-1].startswith("2024-05-01 10:00:01.001 xxx")
        rows_before = app.lines.row_count
        await pilot.press("w")
        await pilot.pause()
        width = app.lines.scrollable_content_region.width
        expected_parts = -(-250 // (width - 24))
        assert app.lines.row_count == rows_before - 1 + expected_parts
        tail = app.lines.visible_text()[-expected_parts:]
        assert tail[0].startswith("2024-05-01 10:00:01.001 xxx")
        assert all(r.startswith(" " * 24 + "x") for r in tail[1:])  # continuation rows are indented
        assert "timestamps wrap" in status(app)
        await pilot.press("w", "t")
        await pilot.pause()
        assert app.lines.row_count == rows_before
        assert app.lines.visible_text()[-1].startswith("xxx")


async def test_wrapped_rows_stay_consistent_when_a_longer_service_tag_arrives() -> None:
    app = ViewApp()
    async with app.run_test(size=SIZE) as pilot:
        app.lines.focus()
        await pilot.press("w")
        app.view.append_lines([make_line("a" * 150, service="db")])
        app.view.flush_now()
        app.view.append_lines([make_line("b" * 150, service="a-much-longer-name")])
        app.view.flush_now()
        await pilot.pause()
        width = app.lines.scrollable_content_region.width
        text_width = width - (len("a-much-longer-name") + 3)
        per_line = -(-150 // text_width)
        assert app.lines.row_count == 2 * per_line
        rows = app.lines.visible_text()
        assert rows[0].startswith("db" + " " * 16 + " │ aaa")
        assert rows[per_line].startswith("a-much-longer-name │ bbb")


async def test_memory_is_bounded_in_lines_and_bytes() -> None:
    app = ViewApp(max_lines=500, max_bytes=40_000)
    async with app.run_test(size=SIZE) as pilot:
        for start in range(0, 20_000, 2000):
            app.view.append_lines(sample(2000, start=start))
            await pilot.pause(0.07)
        app.view.flush_now()
        buf = app.view.buffer
        assert len(buf) <= 500 and buf.nbytes <= 40_000
        assert buf[-1].text.startswith("line 19999")
        assert "older dropped" in status(app)
        assert app.lines.visible_text()[-1].startswith("line 19999")


async def test_eviction_while_paused_keeps_the_page_in_place() -> None:
    app = ViewApp(max_lines=200)
    async with app.run_test(size=SIZE) as pilot:
        app.view.append_lines(sample(200))
        app.view.flush_now()
        await pilot.pause()
        app.lines.focus()
        await pilot.press("pageup")
        await pilot.wait_for_scheduled_animations()  # page up scrolls with an animation
        await pilot.pause()
        before = app.lines.visible_text()
        app.view.append_lines(sample(50, start=200))  # evicts 50 lines above the page
        app.view.flush_now()
        await pilot.pause()
        assert app.lines.visible_text() == before
        assert "+50 new lines" in status(app)


# --- snapshots ------------------------------------------------------------------------------------


class SnapApp(ViewApp):
    def on_mount(self) -> None:
        lines = []
        services = ["postgres", "user-code", "dagster-webserver"]
        for i in range(60):
            svc = services[i % 3]
            text = (
                f"request {i} \x1b[32mOK\x1b[0m"
                if i % 7
                else f"\x1b[1;31mERROR\x1b[0m job {i} failed [bold]x[/]"
            )
            lines.append(make_line(text, service=svc, timestamp=ts(i), stream=2 if i % 7 == 0 else 1))
        self.view.append_lines(lines)
        self.view.flush_now()
        self.lines.focus()


def test_snapshot_interleaved_with_search_and_timestamps(snap_compare: Callable[..., bool]) -> None:
    assert snap_compare(SnapApp(), press=["t", "slash", *"error", "enter", "n"], terminal_size=SIZE)


def test_snapshot_filter_and_paused(snap_compare: Callable[..., bool]) -> None:
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press("f", *"ok", "enter", "up", "up")
        await pilot.pause()
        app = pilot.app
        app.view.append_lines(sample(5, service="user-code", start=500))
        app.view.flush_now()
        await pilot.pause()

    assert snap_compare(SnapApp(), run_before=run_before, terminal_size=SIZE)


# --- LogsPanel with a fake source -----------------------------------------------------------------


class FakeFollower:
    def __init__(
        self,
        lines: list[LogLine],
        events: list[LogEvent],
        on_lines: Callable[[list[LogLine]], None],
        on_event: Callable[[LogEvent], None],
    ) -> None:
        self.lines, self.events = lines, events
        self.on_lines, self.on_event = on_lines, on_event
        self._stop = threading.Event()
        self.finished = threading.Event()

    def run(self) -> None:
        if self.lines:
            self.on_lines(self.lines)
        for event in self.events:
            self.on_event(event)
        self._stop.wait(10)
        self.finished.set()

    def stop(self) -> None:
        self._stop.set()


class FakeSource:
    def __init__(self, script: dict[str | None, tuple[list[LogLine], list[LogEvent]]]) -> None:
        self.script = script
        self.calls: list[tuple[str | None, str]] = []
        self.followers: list[FakeFollower] = []

    def follow(
        self,
        service: str | None,
        backlog: Backlog,
        on_lines: Callable[[list[LogLine]], None],
        on_event: Callable[[LogEvent], None],
    ) -> FakeFollower:
        self.calls.append((service, backlog.key))
        lines, events = self.script.get(service, ([], []))
        follower = FakeFollower(lines, events, on_lines, on_event)
        self.followers.append(follower)
        return follower


class PanelApp(App[None]):
    def __init__(self, source: FakeSource) -> None:
        super().__init__()
        self.source = source

    def compose(self) -> ComposeResult:
        yield LogsPanel(source=self.source, id="panel")

    @property
    def panel(self) -> LogsPanel:
        return self.query_one(LogsPanel)


async def test_panel_switches_services_and_reports_removed_container() -> None:
    source = FakeSource(
        {
            None: (sample(3, "web") + sample(3, "db", start=3), []),
            "web": (
                sample(5, "web"),
                [LogEvent("removed", "container edp-web-1 was removed while its logs were followed", "web")],
            ),
        }
    )
    app = PanelApp(source)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.panel
        await until(pilot, lambda: len(panel.view.buffer) == 6)
        assert source.calls == [(None, "tail1000")]
        assert panel.view.show_service_tags
        assert any(r.startswith("db ") for r in panel.view.lines_widget.visible_text())
        panel.show_service("web")
        await until(pilot, lambda: panel.problem is not None)
        assert source.followers[0]._stop.is_set()  # the previous follower was stopped
        assert source.calls[-1] == ("web", "tail1000")
        assert len(panel.view.buffer) == 5  # cleared on switch: only web's lines
        assert not panel.view.show_service_tags
        title = str(app.query_one("#logs-title").render())
        assert "removed" in title and "Logs: web" in title
        panel.show_service("web")  # same service: nothing restarts
        assert len(source.calls) == 2


async def test_panel_backlog_choice_restarts_follower() -> None:
    source = FakeSource({None: (sample(2), [])})
    app = PanelApp(source)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(source.calls) == 1)
        app.panel.view.lines_widget.focus()
        await pilot.press("b")
        await until(pilot, lambda: len(source.calls) == 2)
        assert source.calls[-1] == (None, "5m")
        assert app.query_one("#logs-backlog", Select).value == "5m"
        app.query_one("#logs-backlog", Select).value = "all"
        await until(pilot, lambda: len(source.calls) == 3)
        assert source.calls[-1] == (None, "all")
        assert "everything" in app.panel.view.status_text().plain
