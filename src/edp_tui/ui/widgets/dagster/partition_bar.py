"""A partitioned asset's health as one line: its partitions folded onto the width, oldest on the left, and the
counts beside. `PartitionBar` redraws at its own width (one line at 80 columns for 365 days as for 3,650)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from edp_tui.dagster.partitions import (
    FAILED,
    IN_PROGRESS,
    MATERIALIZED,
    MISSING,
    PARTIAL,
    PartitionHealth,
)
from edp_tui.text import printable

# A glyph a state, not only a colour: a failure reads as one on a monochrome terminal too.
GLYPHS: dict[str, tuple[str, str]] = {
    MATERIALIZED: ("█", "green"),
    PARTIAL: ("▒", "green"),
    FAILED: ("✖", "bold red"),
    IN_PROGRESS: ("▶", "bold yellow"),
    MISSING: ("░", "grey50"),
}
LEGEND = Text.assemble(
    *(
        part
        for state, name in (
            (MATERIALIZED, "materialized"),
            (PARTIAL, "partly"),
            (FAILED, "failed"),
            (IN_PROGRESS, "in progress"),
            (MISSING, "missing"),
        )
        for part in ((GLYPHS[state][0], GLYPHS[state][1]), f" {name}  ")
    )
)


def bar_text(health: PartitionHealth, width: int) -> Text:
    """The partitions on `width` cells (fewer when there are fewer partitions)."""
    text = Text(no_wrap=True, overflow="crop")
    for state in health.cells(max(1, width)):
        glyph, style = GLYPHS[state]
        text.append(glyph, style=style)
    return text


def counts_text(health: PartitionHealth) -> Text:
    """`12 ✔ materialized · 1 ✖ failed · 0 in progress · 1059 missing of 1072 (2024-01-01 … 2026-12-07)`."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{health.materialized} materialized", style="green" if health.materialized else "dim")
    text.append(" · ")
    text.append(f"{health.failed} failed", style="bold red" if health.failed else "dim")
    text.append(" · ")
    text.append(f"{health.in_progress} in progress", style="bold yellow" if health.in_progress else "dim")
    text.append(f" · {health.missing} missing of {health.total}")
    if health.first_key and health.last_key:
        text.append(f" ({printable(health.first_key)} … {printable(health.last_key)})", style="dim")
    return text


class PartitionBar(Widget):
    """One line: the bar of `health` at the widget's width (empty while there is none)."""

    DEFAULT_CSS = "PartitionBar { height: 1; width: 1fr; }"

    health: reactive[PartitionHealth | None] = reactive(None)

    def __init__(self, health: PartitionHealth | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.set_reactive(PartitionBar.health, health)

    def render(self) -> Text:
        if self.health is None:
            return Text("")
        return bar_text(self.health, self.size.width)
