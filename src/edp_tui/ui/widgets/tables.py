"""`NavTable`: the DataTable every panel uses, with the same first/last-row keys as the log views."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.widgets import DataTable


class NavTable(DataTable[Any]):
    """Home/`g` and End/`G` move the cursor to the first and last row (DataTable's own Home/End only scroll
    sideways), so every table and every log view answers the same keys."""

    BINDINGS = [
        Binding("home,g", "first_row", "First row", id="table.first", show=False),
        Binding("end,G", "last_row", "Last row", id="table.last", show=False),
    ]

    def action_first_row(self) -> None:
        if self.row_count:
            self.move_cursor(row=0)

    def action_last_row(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)
