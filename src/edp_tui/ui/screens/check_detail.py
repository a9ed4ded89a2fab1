"""Why a check failed, on one screen: for a dbt test, the number of failing rows, a sample of them, the
compiled SQL and the file and line where the test is declared (the metadata the platform attaches,
edp_platform/dbt/failures.py; Dagster's UI shows the same); **o** opens that file at that line in $EDITOR.

Opened from the Assets tab (`open_check_detail`): the check highlighted in the checks table, else the
highlighted asset's first failed check. Every value is outside text: shown literally.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from edp_tui.config import repo_root
from edp_tui.dagster.api import DagsterApi
from edp_tui.dagster.assets import AssetCheck, AssetInfo
from edp_tui.dagster.check_detail import CheckExecution
from edp_tui.dagster.errors import DagsterError
from edp_tui.editor import editor_argv
from edp_tui.text import printable
from edp_tui.ui.notify import literal, report
from edp_tui.util.fmt import timestamp

if TYPE_CHECKING:
    from edp_tui.ui.widgets.dagster.assets import AssetsPanel


def summary(asset: AssetInfo, check: AssetCheck, execution: CheckExecution | None) -> Group:
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    status = (execution.status if execution else None) or check.status or "not run"
    facts.add_row("check", literal(check.name))
    facts.add_row("asset", literal(asset.name))
    facts.add_row("outcome", Text(status, style="bold red" if "FAIL" in status else ""))
    if execution is None:
        return Group(facts)
    facts.add_row("severity", Text(execution.severity or "-"))
    facts.add_row("run", literal(execution.run_id or "-"))
    when = execution.timestamp
    facts.add_row("when", Text(timestamp(when, with_year=True) if when else "-"))
    if execution.description:
        facts.add_row("description", literal(execution.description))
    if execution.failed_row_count is not None:
        facts.add_row("failing rows", Text(str(execution.failed_row_count), style="bold"))
    if execution.file:
        where = execution.file + (f":{execution.line}" if execution.line else "")
        facts.add_row("declared in", Text.assemble(literal(where), ("   o: open in $EDITOR", "dim")))
    for label, value in execution.others:
        facts.add_row(literal(label), literal(value))
    return Group(facts)


class CheckDetailScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("o", "open_file", "Open in $EDITOR", id="check_detail.open_file"),
        Binding("escape,q", "close", "Close", id="check_detail.close"),
    ]

    HELP = """\
## Check detail

The latest execution of the check. For a failed dbt test: how many rows fail it, a sample of them (the
platform keeps every failing row in the table named under *dbt/failures_relation*, to query by hand), the
test's compiled SQL, and where the test is declared: **o** opens that file at that line in `$VISUAL` or
`$EDITOR` (the dashboard returns when the editor ends). **escape** closes this view.
"""

    DEFAULT_CSS = """
    CheckDetailScreen { align: center middle; }
    CheckDetailScreen > VerticalScroll {
        width: 95%;
        height: 95%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    CheckDetailScreen #check-rows { height: auto; max-height: 12; margin: 1 0; }
    CheckDetailScreen #check-rows.-none { display: none; }
    CheckDetailScreen .section { text-style: bold underline; }
    """

    def __init__(self, client: DagsterApi, asset: AssetInfo, check: AssetCheck, code_dir: Path) -> None:
        super().__init__()
        self.client = client
        self.asset = asset
        self.check = check
        self.code_dir = code_dir
        self.execution: CheckExecution | None = None
        self.loaded = False

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = literal(f"Check {self.check.name} of {self.asset.name}")
            yield Static(summary(self.asset, self.check, None), id="check-summary")
            yield Static(Text("loading the latest execution…", style="dim"), id="check-status")
            yield DataTable(id="check-rows", classes="-none", cursor_type="row")
            yield Static(id="check-sql")

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        status = self.query_one("#check-status", Static)
        try:
            execution = await self.client.check_execution(self.asset.key, self.check.name)
        except DagsterError as exc:
            status.update(Text.assemble(("cannot read the check's execution: ", "bold red"), literal(exc)))
            return
        self.execution = execution
        self.query_one("#check-summary", Static).update(summary(self.asset, self.check, execution))
        if execution is None:
            status.update(Text("never executed", style="dim"))
        else:
            self._show(execution, status)
        self.loaded = True

    def _show(self, execution: CheckExecution, status: Static) -> None:
        columns, rows = execution.failing_rows
        if columns:
            shown = f"a sample of the failing rows ({len(rows)}"
            total = execution.failed_row_count
            shown += f" of {total})" if total is not None else ")"
            status.update(Text(shown, style="bold"))
            table = self.query_one("#check-rows", DataTable)
            for column in columns:
                table.add_column(literal(column))
            for row in rows:
                table.add_row(*(literal(cell) for cell in row))
            table.set_class(False, "-none")
        else:
            status.update(Text("no sample of failing rows in the check's metadata", style="dim"))
        sql = execution.compiled_sql
        if sql:
            self.query_one("#check-sql", Static).update(
                Group(
                    Text("compiled SQL", style="bold underline"),
                    Syntax(printable_lines(sql), "sql", word_wrap=True, theme="ansi_dark"),
                )
            )

    def action_open_file(self) -> None:
        execution = self.execution
        if execution is None or execution.file is None:
            report(self, "no file in the check's metadata to open", severity="warning")
            return
        path = Path(execution.file)
        path = path if path.is_absolute() else self.code_dir / path
        if not path.is_file():
            where = f"{path} does not exist on this host (the code folder: {self.code_dir})"
            report(self, where, severity="warning")
            return
        app: Any = self.app
        argv = editor_argv(path, execution.line)
        try:
            code = app.terminal.run(app, argv, env=dict(os.environ), wait=False, what="the editor")
        except SuspendNotSupported as exc:
            report(self, f"cannot suspend the dashboard here: {exc}")
            return
        if code != 0:
            report(self, f"{argv[0]} ended with exit code {code}", severity="warning")

    def action_close(self) -> None:
        self.dismiss(None)


def printable_lines(text: str) -> str:
    return "\n".join(printable(line) for line in text.split("\n"))


def open_check_detail(panel: AssetsPanel) -> None:
    """The detail of the check highlighted in the checks table (when it has the focus), else of the
    highlighted asset's first failed check, else of its first check."""
    asset = panel.selected
    if asset is None or not asset.checks:
        report(panel, "the highlighted asset has no checks", severity="warning")
        return
    checks = panel.checks_table
    # The checks table's rows are the asset's checks, in order.
    row = checks.cursor_row if panel.app.focused is checks and checks.row_count else None
    check = asset.checks[row] if row is not None and 0 <= row < len(asset.checks) else None
    check = check or next(iter(asset.failed_checks), None) or asset.checks[0]
    backends = getattr(panel.app, "backends", None)  # the dashboard's; a test's host app has none
    root = getattr(backends, "code_dir", None) or repo_root()
    panel.app.push_screen(CheckDetailScreen(panel.client, asset, check, root))
