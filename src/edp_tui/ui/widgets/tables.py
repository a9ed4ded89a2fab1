"""`NavTable`: the DataTable every panel uses, with the same first/last-row keys as the log views; and what
the panels do to their tables alike: `cursor_row_key` (the row under the cursor), `update_changed_cells`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual.binding import Binding
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist


def cursor_row_key(table: DataTable[Any]) -> str | None:
    """The key of the row under the cursor; None when the table is empty or the cursor is on no cell."""
    if table.row_count == 0:
        return None
    try:
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    except CellDoesNotExist:
        return None


def update_changed_cells(
    table: DataTable[Any], row_key: str, cells: Mapping[str, Any], *, update_width: bool = False
) -> None:
    """Write the cells of ``row_key`` that differ (an unchanged cell costs no refresh); a row or column gone
    meanwhile is skipped (the next rebuild has it right)."""
    for column, value in cells.items():
        try:
            if table.get_cell(row_key, column) != value:
                table.update_cell(row_key, column, value, update_width=update_width)
        except (CellDoesNotExist, RowDoesNotExist):
            pass


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
