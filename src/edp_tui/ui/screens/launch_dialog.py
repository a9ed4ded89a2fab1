"""Launch a job: job picker, YAML run config, partition, tags. Errors are shown inline and nothing is
launched."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from edp_tui.dagster.api import DagsterApi
from edp_tui.dagster.errors import DagsterError, RunConfigInvalid
from edp_tui.dagster.models import RunSummary
from edp_tui.dagster.partitions import PartitionRequestError, check_job_partition
from edp_tui.dagster.run_config import parse_run_config
from edp_tui.dagster.runs_query import PARTITION_TAG
from edp_tui.dagster.tags import parse_tag_list
from edp_tui.text import printable, safe_text

# A job in the picker: (location, repository, job): two code locations may define jobs of the same name.
JobRef = tuple[str, str, str]
# What the picker starts on: a job with its location when known (a run's), else a bare job name.
JobChoice = tuple[str | None, str | None, str]


class LaunchDialog(ModalScreen[RunSummary | None]):
    """Dismisses with the launched run, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="launch.cancel"),
        Binding("ctrl+s", "launch", "Launch", id="launch.submit"),
    ]

    HELP = """\
## Launch a job

Pick a job (hidden `__` jobs are not listed; the dialog starts on the job launched last, and shows the
picked job's description), edit its run config as YAML (pre-filled with the job's defaults),
the partition to run for a partitioned job (checked against its partitions, e.g. `2024-01-05`) and
optional tags `key=value, key2=value2`. **ctrl+s** or the Launch button launches; **escape** cancels.
YAML mistakes and Dagster's config validation errors (with the config path) appear below the editor and
nothing is launched.
"""

    DEFAULT_CSS = """
    LaunchDialog { align: center middle; }
    LaunchDialog > Vertical {
        width: 90%; max-width: 120; height: 90%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    LaunchDialog #run-config { height: 1fr; min-height: 5; }
    LaunchDialog #job-description { height: auto; max-height: 3; color: $text-muted; padding: 0 1; }
    LaunchDialog #launch-errors { height: auto; max-height: 10; color: $error; }
    LaunchDialog Horizontal { height: auto; }
    LaunchDialog Button { margin: 0 1; }
    """

    def __init__(self, client: DagsterApi, *, initial_job: JobChoice | None = None) -> None:
        """``initial_job``: the job picked first when it exists (the one launched last): the same job of the
        same location, else a job of that name."""
        super().__init__()
        self.client = client
        self.initial_job = initial_job
        self.jobs: list[JobRef] = []
        self.descriptions: dict[JobRef, str] = {}
        self.launching = False
        self.error_text = ""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text("Launch a job", style="bold"))
            yield Select[JobRef]([], prompt="loading jobs…", id="job")
            yield Static(id="job-description")
            yield Label("Run config (YAML)")
            yield TextArea("", language=None, id="run-config", soft_wrap=False, show_line_numbers=True)
            yield Input(placeholder="partition (a partitioned job), e.g. 2024-01-05", id="partition")
            yield Input(placeholder="tags: key=value, key2=value2", id="tags")
            yield Static(id="launch-errors")
            with Horizontal():
                yield Button("Launch (ctrl+s)", variant="primary", id="launch")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self._load_jobs()

    @work(exclusive=True, group="launch-jobs", exit_on_error=False)
    async def _load_jobs(self) -> None:
        try:
            locations = await self.client.locations()
        except DagsterError as exc:
            self.show_errors(f"cannot list jobs: {exc}")
            return
        self.descriptions = {
            (loc.name, repo, job.name): job.description
            for loc in locations
            if loc.state == "loaded"
            for repo, job in loc.visible_jobs()
        }
        self.jobs = list(self.descriptions)
        select = self.query_one("#job", Select)
        many_locations = len({j[0] for j in self.jobs}) > 1
        # Outside text: never read as markup in the picker.
        select.set_options(
            (Text(printable(f"{loc}: {job}" if many_locations else job)), (loc, repo, job))
            for loc, repo, job in self.jobs
        )
        if not self.jobs:
            broken = [loc.name for loc in locations if loc.state != "loaded"]
            self.show_errors("no job to launch" + (f" (not loaded: {', '.join(broken)})" if broken else ""))
            return
        select.value = self._initial_choice()
        select.focus()

    def _initial_choice(self) -> JobRef:
        wanted = self.initial_job
        if wanted is None:
            return self.jobs[0]
        location, _, job = wanted
        same = [j for j in self.jobs if j[2] == job]
        return next((j for j in same if location in (None, j[0])), same[0] if same else self.jobs[0])

    def on_select_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, tuple):
            description = self.descriptions.get(event.value, "")
            self.query_one("#job-description", Static).update(
                safe_text(description) if description else Text("no description", style="dim italic")
            )
            self._load_defaults(event.value)

    @work(exclusive=True, group="launch-defaults", exit_on_error=False)
    async def _load_defaults(self, job: JobRef) -> None:
        try:
            text = await self.client.default_run_config(*job)
        except DagsterError as exc:
            self.show_errors(f"no default config for {job[2]}: {exc}")
            return
        if self.query_one("#job", Select).value == job:
            self.query_one("#run-config", TextArea).text = text

    def show_errors(self, text: str) -> None:
        self.error_text = text
        self.query_one("#launch-errors", Static).update(safe_text(text) if text else Text(""))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "launch":
            self.action_launch()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_launch(self) -> None:
        if self.launching:
            return
        job = self.query_one("#job", Select).value
        if not isinstance(job, tuple):
            self.show_errors("pick a job first")
            return
        try:
            config = parse_run_config(self.query_one("#run-config", TextArea).text)
            tags = parse_tag_list(self.query_one("#tags", Input).value)
        except ValueError as exc:
            self.show_errors(str(exc))
            return
        self.show_errors("")
        self.launching = True
        self._launch(job, config, tags, self.query_one("#partition", Input).value.strip())

    @work(exclusive=True, group="launch", exit_on_error=False)
    async def _launch(
        self, job: JobRef, config: dict[str, Any], tags: dict[str, str], partition: str
    ) -> None:
        try:
            if partition:
                # dagster/partition is refused as a plain tag (a reserved prefix): set here once checked.
                await check_job_partition(self.client, job[2], job[0], partition)
                tags = {**tags, PARTITION_TAG: partition}
            run = await self.client.launch_run(*job, run_config=config, tags=tags)
        except PartitionRequestError as exc:
            self.show_errors(printable(str(exc)))
        except RunConfigInvalid as exc:
            lines = [f"Dagster rejected the run config of {job[2]} (nothing launched):"]
            lines += [f"  {e.path or '(root)'}: {e.message}" for e in exc.errors]
            self.show_errors("\n".join(lines))
        except DagsterError as exc:
            self.show_errors(f"launch failed (nothing launched): {printable(str(exc))}")
        else:
            self.dismiss(run)
        finally:
            self.launching = False
