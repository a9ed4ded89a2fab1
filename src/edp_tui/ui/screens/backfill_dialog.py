"""Launch a backfill of assets or of a job: a range, the missing partitions or the failed ones. The plan is
checked as it is typed (edp_tui.dagster.backfill_plan, the CLI's own) and shown before anything is launched;
a bad one says why and cannot be launched."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Select, Static

from edp_tui.dagster.api import DagsterApi
from edp_tui.dagster.assets import AssetKey, key_text
from edp_tui.dagster.backfill_plan import BackfillAsk, plan_backfill
from edp_tui.dagster.backfills import BackfillRequest
from edp_tui.dagster.errors import DagsterError
from edp_tui.dagster.partitions import PartitionHealth
from edp_tui.text import printable

# A job in the picker: (location, job)
JobRef = tuple[str, str]
MODES = {"mode-range": "range", "mode-missing": "missing", "mode-failed": "failed"}
# Typing in a key field plans again once the typing pauses.
PLAN_DELAY_S = 0.3


class CachedSource:
    """The dialog's answers, asked once each while it is open (the key list can be long)."""

    def __init__(self, client: DagsterApi) -> None:
        self.client = client
        self._required: dict[tuple[AssetKey, ...], list[AssetKey]] = {}
        self._health: dict[AssetKey, PartitionHealth | None] = {}
        self._unknown: set[AssetKey] = set()
        self._keys: dict[AssetKey, list[str]] = {}

    async def required_assets(self, keys: Sequence[AssetKey]) -> list[AssetKey]:
        if tuple(keys) not in self._required:
            self._required[tuple(keys)] = await self.client.required_assets(keys)
        return self._required[tuple(keys)]

    async def partition_health(
        self, keys: Sequence[AssetKey] | None = None
    ) -> dict[AssetKey, PartitionHealth | None]:
        wanted = list(keys or ())
        missing = [k for k in wanted if k not in self._health and k not in self._unknown]
        if missing:
            found = await self.client.partition_health(missing)
            self._health.update(found)
            self._unknown.update(k for k in missing if k not in found)
        return {k: self._health[k] for k in wanted if k in self._health}

    async def partition_keys(self, key: AssetKey) -> list[str]:
        if key not in self._keys:
            self._keys[key] = await self.client.partition_keys(key)
        return self._keys[key]


class BackfillDialog(ModalScreen[BackfillRequest | None]):
    """Dismisses with the request to launch (already checked), or None when cancelled. Given `assets`, they
    are the target; otherwise a job is picked (its assets; those not partitioned are built once)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="backfill.cancel"),
        Binding("ctrl+s", "submit", "Backfill", id="backfill.submit"),
    ]

    HELP = """\
## Backfill

What to backfill: the asset chosen in the Assets tab (with the assets of the same step), or a job picked
here. **Range**: from the first to the last key typed (both included); **Missing**: the partitions never
materialized; **Failed**: those whose last run failed (both within the range when one is typed). The plan
below says what would be launched, or why nothing can be. **ctrl+s** launches it, **escape** cancels.
"""

    DEFAULT_CSS = """
    BackfillDialog { align: center middle; }
    BackfillDialog > Vertical {
        width: 90%; max-width: 100; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    BackfillDialog RadioSet { layout: horizontal; height: auto; }
    BackfillDialog #keys { height: auto; }
    BackfillDialog #keys Input { width: 1fr; }
    BackfillDialog #backfill-target, BackfillDialog #backfill-plan { height: auto; padding: 0 1; }
    BackfillDialog #backfill-plan.-refused { color: $error; }
    BackfillDialog #buttons { height: auto; }
    BackfillDialog Button { margin: 0 1; }
    """

    def __init__(
        self,
        client: DagsterApi,
        *,
        assets: Sequence[AssetKey] = (),
        mode: str = "range",
        health: PartitionHealth | None = None,
    ) -> None:
        super().__init__()
        self.client = client
        self.source = CachedSource(client)
        self.assets = tuple(assets)
        self.initial_mode = mode
        self.health = health
        self.jobs: list[JobRef] = []
        self.job: JobRef | None = None
        self.job_assets: tuple[AssetKey, ...] = ()
        self.request: BackfillRequest | None = None
        self.plan_text = ""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text("Backfill", style="bold"))
            if not self.assets:
                yield Select[JobRef]([], prompt="loading jobs…", id="backfill-job")
            yield Static(id="backfill-target")
            with RadioSet(id="backfill-mode"):
                for button_id, mode in MODES.items():
                    yield RadioButton(mode.capitalize(), value=mode == self.initial_mode, id=button_id)
            with Horizontal(id="keys"):
                yield Input(placeholder="from (first key)", id="backfill-from")
                yield Input(placeholder="to (last key)", id="backfill-to")
            yield Static(Text("checking…", style="dim"), id="backfill-plan")
            with Horizontal(id="buttons"):
                yield Button("Backfill (ctrl+s)", variant="primary", id="backfill-launch")
                yield Button("Cancel (esc)", id="backfill-cancel")

    def on_mount(self) -> None:
        if self.assets:
            names = ", ".join(key_text(k) for k in self.assets)
            self.query_one("#backfill-target", Static).update(Text.assemble("assets: ", printable(names)))
            self._prefill(self.health)
            self.replan()
            if self.health is None:  # opened from the Assets tab: the range comes from Dagster
                self._load_health()
        else:
            self._load_jobs()

    def _prefill(self, health: PartitionHealth | None) -> None:
        """The whole range, to narrow, for a range; nothing (no bound) for missing and failed."""
        if health is None or self.mode != "range":
            return
        start, end = self.query_one("#backfill-from", Input), self.query_one("#backfill-to", Input)
        if not start.value and health.first_key:
            start.value = health.first_key
        if not end.value and health.last_key:
            end.value = health.last_key

    @work(exclusive=True, group="backfill-health", exit_on_error=False)
    async def _load_health(self) -> None:
        try:
            found = await self.source.partition_health(self.assets[:1])
        except DagsterError:
            return  # the plan says what cannot be read
        self.health = found.get(self.assets[0])
        self._prefill(self.health)

    @work(exclusive=True, group="backfill-jobs", exit_on_error=False)
    async def _load_jobs(self) -> None:
        try:
            locations = await self.client.locations()
        except DagsterError as exc:
            self._show_plan(f"cannot list jobs: {exc}", refused=True)
            return
        self.jobs = [
            (loc.name, job.name)
            for loc in locations
            if loc.state == "loaded"
            for _, job in loc.visible_jobs()
        ]
        several = len({loc for loc, _ in self.jobs}) > 1
        select = self.query_one("#backfill-job", Select)
        select.set_options((f"{loc}: {job}" if several else job, (loc, job)) for loc, job in self.jobs)
        select.prompt = "pick a job"
        self._show_plan("pick a job", refused=True)

    @on(Select.Changed, "#backfill-job")
    def job_picked(self, event: Select.Changed) -> None:
        value = event.value
        if isinstance(value, tuple):
            self.job = value
            self._load_job_assets(value)

    @work(exclusive=True, group="backfill-job-assets", exit_on_error=False)
    async def _load_job_assets(self, job: JobRef) -> None:
        try:
            self.job_assets = tuple(await self.client.job_assets(job[1], job[0]))
            found = await self.source.partition_health(self.job_assets)
        except DagsterError as exc:
            self._show_plan(f"cannot read job {job[1]}: {exc}", refused=True)
            return
        healths = [h for h in found.values() if h is not None]
        self.query_one("#backfill-target", Static).update(
            Text(f"{len(self.job_assets)} assets, {len(healths)} partitioned", style="dim")
        )
        self._prefill(healths[0] if healths else None)
        self.replan()

    @property
    def mode(self) -> str:
        pressed = self.query_one("#backfill-mode", RadioSet).pressed_button
        return MODES.get(pressed.id or "", "range") if pressed is not None else "range"

    @on(RadioSet.Changed)
    @on(Input.Changed)
    def inputs_changed(self) -> None:
        self.replan()

    def replan(self) -> None:
        self.request = None
        self._plan()

    @work(exclusive=True, group="backfill-plan", exit_on_error=False)
    async def _plan(self) -> None:
        from asyncio import sleep

        await sleep(PLAN_DELAY_S)  # a newer keystroke cancels this worker (exclusive) before it asks
        targets = self.assets or self.job_assets
        if not targets:
            return
        start = self.query_one("#backfill-from", Input).value.strip() or None
        end = self.query_one("#backfill-to", Input).value.strip() or None
        ask = BackfillAsk(
            targets, self.mode, start, end, from_job=self.job[1] if self.job and not self.assets else None
        )
        try:
            request = await plan_backfill(self.source, ask)
        except DagsterError as exc:  # PartitionRequestError and any failure to read
            self._show_plan(str(exc), refused=True)
            return
        self.request = request
        self._show_plan(f"would launch: {request.describe()}", refused=False)

    def _show_plan(self, text: str, *, refused: bool) -> None:
        self.plan_text = text
        plan = self.query_one("#backfill-plan", Static)
        plan.update(Text(printable(text)))
        plan.set_class(refused, "-refused")

    def action_submit(self) -> None:
        if self.request is None:
            self.notify("nothing to launch yet: see the plan", severity="warning", markup=False)
            return
        self.dismiss(self.request)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#backfill-launch")
    def launch_pressed(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#backfill-cancel")
    def cancel_pressed(self) -> None:
        self.action_cancel()
