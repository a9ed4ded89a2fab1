"""`NavTable`: the DataTable every panel uses, with the same first/last-row keys as the log views; and
`cursor_row_key`, the row under a table's cursor."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist


def cursor_row_key(table: DataTable[Any]) -> str | None:
    """The key of the row under the cursor; None when the table is empty or the cursor is on no cell."""
    if table.row_count == 0:
        return None
    try:
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    except CellDoesNotExist:
        return None


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
