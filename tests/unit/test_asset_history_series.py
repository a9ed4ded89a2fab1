"""An asset's materializations as the AssetHistory query answers them, and the numeric series plotted."""

from __future__ import annotations

from edp_tui.dagster.asset_history import MaterializationRecord, numeric_series


def record(run_id: str, ms: str, *entries: dict[str, object]) -> MaterializationRecord:
    return MaterializationRecord.from_graphql(
        {
            "runId": run_id,
            "timestamp": ms,
            "stepKey": "s",
            "partition": None,
            "metadataEntries": list(entries),
        }
    )


def test_records_and_series_oldest_first() -> None:
    newest = record(
        "r2",
        "2000",
        {
            "__typename": "IntMetadataEntry",
            "label": "dagster/row_count",
            "intValue": None,
            "intRepr": "5000000000",
        },
        {"__typename": "FloatMetadataEntry", "label": "Execution Duration", "floatValue": 2.5},
        {"__typename": "BoolMetadataEntry", "label": "ok", "boolValue": True},  # not a number to plot
    )
    oldest = record(
        "r1",
        "1000",
        {"__typename": "IntMetadataEntry", "label": "dagster/row_count", "intValue": 10},
        {"__typename": "FloatMetadataEntry", "label": "Execution Duration", "floatValue": float("nan")},
        {"__typename": "TextMetadataEntry", "label": "unique_id", "text": "model.p.a"},
    )
    assert (newest.run_id, newest.timestamp) == ("r2", 2.0)
    series = numeric_series([newest, oldest])  # newest first, as Dagster answers
    assert [(s.label, s.values) for s in series] == [
        ("dagster/row_count", (10.0, 5_000_000_000.0)),
        ("Execution Duration", (None, 2.5)),  # NaN is no value
    ]
    assert numeric_series([]) == []
