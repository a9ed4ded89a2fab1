"""`CheckExecution`: the latest execution of one asset check with its metadata (``AssetCheckExecution``), and
what the platform attaches to a failed dbt test (edp_platform/dbt/failures.py): the failing row count, a
sample of the rows (a markdown table), the compiled SQL, the file and line where the test is declared."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from edp_tui.dagster.metadata import metadata_of, sql_of

JSON = dict[str, Any]

FAILED_ROW_COUNT = "dagster_dbt/failed_row_count"
FAILURES_RELATION = "dbt/failures_relation"
FAILING_ROWS = "dbt/failing_rows"
COMPILED_SQL = "dbt/compiled_sql"
FILE = "dbt/file"
LINE = "dbt/line"
MODEL_FILE = "dbt/model_file"

_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def markdown_table(text: str) -> tuple[list[str], list[list[str]]]:
    """(columns, rows) of a markdown table as the platform writes it (``|`` in a cell escaped as ``\\|``)."""

    def cells(line: str) -> list[str]:
        inner = line.strip().removeprefix("|").removesuffix("|")
        return [c.strip().replace("\\|", "|") for c in _CELL_SPLIT.split(inner)]

    lines = [line for line in text.strip().splitlines() if line.strip().startswith("|")]
    if not lines:
        return [], []
    rows = [cells(line) for line in lines[1:] if not re.fullmatch(r"\|?(\s*:?-+:?\s*\|)+\s*", line.strip())]
    return cells(lines[0]), rows


@dataclass(frozen=True)
class CheckExecution:
    run_id: str | None
    status: str | None
    timestamp: float | None
    severity: str | None
    description: str | None
    metadata: tuple[tuple[str, object], ...]  # (label, value) in Dagster's order

    @classmethod
    def from_graphql(cls, obj: JSON) -> CheckExecution:
        evaluation = obj.get("evaluation") or {}
        entries = evaluation.get("metadataEntries") or []
        ts = obj.get("timestamp")
        return cls(
            run_id=obj.get("runId"),
            status=obj.get("status"),
            timestamp=None if ts is None else float(ts),
            severity=evaluation.get("severity"),
            description=evaluation.get("description"),
            metadata=metadata_of(entries),
        )

    def get(self, label: str) -> object:
        return dict(self.metadata).get(label)

    @property
    def failed_row_count(self) -> int | None:
        value = self.get(FAILED_ROW_COUNT)
        return value if isinstance(value, int) else None

    @property
    def failing_rows(self) -> tuple[list[str], list[list[str]]]:
        value = self.get(FAILING_ROWS)
        return markdown_table(value) if isinstance(value, str) else ([], [])

    @property
    def compiled_sql(self) -> str | None:
        value = self.get(COMPILED_SQL)
        return sql_of(value) if isinstance(value, str) else None

    @property
    def file(self) -> str | None:
        value = self.get(FILE)
        return value if isinstance(value, str) and value else None

    @property
    def line(self) -> int | None:
        value = self.get(LINE)
        return value if isinstance(value, int) and value > 0 else None

    @property
    def others(self) -> list[tuple[str, object]]:
        """The metadata not shown in a section of its own."""
        shown = {FAILED_ROW_COUNT, FAILING_ROWS, COMPILED_SQL, FILE, LINE}
        return [(k, v) for k, v in self.metadata if k not in shown]
