"""The last materializations of one asset with their metadata (``AssetHistory``), and the numeric series
in them (``dagster/row_count``, dagster-dbt's ``Execution Duration``, whatever a user attaches) that the
Assets tab's history plots, oldest first."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from edp_tui.dagster.metadata import Metadata, metadata_of

# Materializations read per asset (one request; the plot is a few dozen columns wide).
HISTORY_LIMIT = 50
# Series plotted at most (the labels with the most values first).
MAX_SERIES = 4


@dataclass(frozen=True)
class MaterializationRecord:
    run_id: str
    timestamp: float  # epoch seconds
    step_key: str | None
    partition: str | None
    metadata: Metadata

    @classmethod
    def from_graphql(cls, obj: dict[str, Any]) -> MaterializationRecord:
        return cls(
            run_id=str(obj.get("runId") or ""),
            timestamp=float(obj.get("timestamp") or 0) / 1000.0,  # milliseconds, as a string
            step_key=obj.get("stepKey"),
            partition=obj.get("partition"),
            metadata=metadata_of(obj.get("metadataEntries")),
        )

    def number(self, label: str) -> float | None:
        value = dict(self.metadata).get(label)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return None
        return float(value)


@dataclass(frozen=True)
class Series:
    label: str
    values: tuple[float | None, ...]  # one per materialization, oldest first; None where it had none

    @property
    def present(self) -> list[float]:
        return [v for v in self.values if v is not None]


def numeric_series(records: Sequence[MaterializationRecord], limit: int = MAX_SERIES) -> list[Series]:
    """The numeric metadata of the materializations (given newest first, as Dagster answers), oldest first;
    the labels present in the most of them first, then by name."""
    oldest_first = list(reversed(records))
    counts: dict[str, int] = {}
    for record in oldest_first:
        for label, _ in record.metadata:
            if record.number(label) is not None:
                counts[label] = counts.get(label, 0) + 1
    labels = sorted(counts, key=lambda label: (-counts[label], label))[:limit]
    return [Series(label, tuple(r.number(label) for r in oldest_first)) for label in labels]
