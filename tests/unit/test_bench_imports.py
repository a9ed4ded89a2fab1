"""Every bench imports: a bench is run by hand, rarely, so a name that moved (as `screen_text` did under
bench/dagster_bench.py) must fail here, not the day someone wants a figure. Importing runs nothing: every
bench measures only under ``if __name__ == "__main__"``."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
BENCHES = sorted(BENCH.glob("*.py"))
# The module the benches import, run by none: no main().
LIBRARIES = {"harness"}


@pytest.fixture
def bench_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # As `python bench/x.py` runs it: the script's folder first on sys.path (benches import `harness`).
    monkeypatch.syspath_prepend(str(BENCH))


def test_there_are_benches() -> None:
    assert len(BENCHES) >= 10 and (BENCH / "harness.py") in BENCHES


@pytest.mark.parametrize("path", BENCHES, ids=[p.stem for p in BENCHES])
def test_the_bench_imports(path: Path, bench_on_path: None) -> None:
    spec = importlib.util.spec_from_file_location(f"bench_smoke_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(f"bench_smoke_{path.stem}", None)
    if path.stem not in LIBRARIES:
        assert callable(getattr(module, "main", None)), f"{path.name} has no main()"


@pytest.mark.parametrize("path", BENCHES, ids=[p.stem for p in BENCHES])
def test_no_bench_imports_a_test_module(path: Path) -> None:
    """Benches share bench/harness.py; the test tree may move under them. (The harness's `process_stack` is
    the one bridge, checked below.)"""
    tree = ast.parse(path.read_text())
    imported = [
        name
        for node in ast.walk(tree)
        for name in (
            [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
    ]
    allowed = {"tests.support.process_stack"} if path.stem == "harness" else set()
    assert [m for m in imported if m.split(".")[0] == "tests" and m not in allowed] == []


def test_the_harness_reaches_the_process_stack(bench_on_path: None) -> None:
    from tests.support.process_stack import ProcessStack

    assert callable(ProcessStack.start) and callable(ProcessStack.stop)


def test_the_harness_launches_the_demo_as_the_tests_do(bench_on_path: None) -> None:
    import harness

    from tests.support import stack_runs

    assert (harness.DEMO_DAY, harness.PARTITION_TAG) == (stack_runs.DEMO_DAY, stack_runs.PARTITION_TAG)
    assert harness.demo_config(1, 2, 3, 4) == stack_runs.demo_config(1, 2, 3, 4)
