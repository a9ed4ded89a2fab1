"""Re-execute a finished run: from its failure, all its steps, or the step highlighted in the run detail."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from edp_tui.dagster.models import RunSummary
from edp_tui.ui.notify import literal

# Runs that failed or were canceled have a failure to start from.
FROM_FAILURE_STATUSES = frozenset({"FAILURE", "CANCELED"})


@dataclass(frozen=True)
class Reexecution:
    """What to re-execute: ``strategy`` FROM_FAILURE / ALL_STEPS, or ``step_keys`` (strategy then ignored)."""

    strategy: str
    step_keys: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.step_keys:
            return "step " + ", ".join(self.step_keys)
        return "from failure" if self.strategy == "FROM_FAILURE" else "all steps"


def choices(run: RunSummary, step: str | None) -> list[tuple[str, Reexecution]]:
    """The re-executions this run offers, most likely first."""
    offered = []
    if run.status in FROM_FAILURE_STATUSES:
        offered.append(("From failure (the failed steps and what follows them)", Reexecution("FROM_FAILURE")))
    offered.append(("All steps", Reexecution("ALL_STEPS")))
    if step is not None:
        offered.append((f"Only step {step}", Reexecution("ALL_STEPS", (step,))))
    return offered


class ReexecuteDialog(ModalScreen[Reexecution | None]):
    """Dismisses with the chosen re-execution, or None (escape). Choosing is the confirmation."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="reexecute.cancel")]

    DEFAULT_CSS = """
    ReexecuteDialog { align: center middle; }
    ReexecuteDialog > Vertical {
        width: 80%; max-width: 90; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    ReexecuteDialog OptionList { height: auto; max-height: 8; }
    """

    def __init__(self, run: RunSummary, step: str | None) -> None:
        super().__init__()
        self.run = run
        self.offered = choices(run, step)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                literal(f"Re-execute run {self.run.run_id[:8]} of {self.run.job_name} ({self.run.status})")
            )
            yield OptionList(
                *(Option(literal(label), id=str(i)) for i, (label, _) in enumerate(self.offered))
            )
            yield Label(Text("enter launches the new run · escape cancels", style="dim"))

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.offered[event.option_index][1])

    def action_cancel(self) -> None:
        self.dismiss(None)
