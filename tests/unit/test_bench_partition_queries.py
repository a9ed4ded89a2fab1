"""bench/partition_queries.py's plan: what it sets up must be what its check expects (several ranges, one
failed day, N keys ending yesterday), and the code location it generates must be valid Python."""

from __future__ import annotations

import ast
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
TODAY = date(2026, 12, 7)


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(BENCH))  # as `python bench/partition_queries.py` runs it
    import partition_queries

    return partition_queries


@pytest.mark.parametrize("n", [12, 30, 365, 3650])
def test_the_plan_has_several_ranges_and_one_failed_day(bench: Any, n: int) -> None:
    keys = bench.day_keys(n, TODAY)
    assert len(keys) == n and keys[-1] == (TODAY - timedelta(days=1)).isoformat()
    assert keys[0] == bench.first_day(n, TODAY).isoformat()
    done = bench.materialized_indices(n)
    assert len(done) == 10 and all(0 <= i < n for i in done)
    runs = sum(1 for i in done if i - 1 not in done)
    assert runs == 3
    failed = bench.failed_index(n)
    assert 0 <= failed < n and failed not in done  # a FAILED range of its own


def test_the_generated_location_is_python_naming_each_size(bench: Any) -> None:
    source = bench.definitions_source([30, 3650], TODAY)
    ast.parse(source)
    assert "2026-11-07" in source and "2016-12-09" in source


def test_the_table_has_a_ratio_per_smaller_size(bench: Any) -> None:
    row = {c: 2.0 for c in bench.COLUMNS}
    lines = bench.table({30: {c: 1.0 for c in bench.COLUMNS}, 3650: row}).splitlines()
    assert lines[-1].split()[0] == "3650/30" and lines[-1].split()[1] == "2.00x"
    assert len(bench.table({30: row}).splitlines()) == 2  # one size: no ratio
