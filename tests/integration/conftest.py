"""Integration fixtures: the real stack as local processes (PostgreSQL, code server, webserver, daemon).

- `process_stack`: one stack for the whole session, shared by every integration test. Tests must leave it as
  they found it (no stopping processes, no breaking code): tests that break things use `make_process_stack`.
- `make_process_stack(copy_code=False, code_root=None, start_daemon=True, auto_reload=True)`: a stack of one's
  own, stopped at the end of the test; with `copy_code=True` it runs a temporary copy of the repository
  (etl_pipeline, dbt_project, stack) that the test may edit (hot reload).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.process_stack import REPO_ROOT, ProcessStack

COPIED_PATHS = ("etl_pipeline/src", "dbt_project", "stack/dagster.yaml")
COPY_IGNORE = shutil.ignore_patterns("__pycache__", "*.egg-info", "target", "logs", "dbt_packages")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


def copy_repository(dest: Path) -> Path:
    """The parts of the repository a code location needs, copied to `dest` (returned as the code root)."""
    for rel in COPIED_PATHS:
        src = REPO_ROOT / rel
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, target, ignore=COPY_IGNORE)
        else:
            shutil.copy2(src, target)
    return dest


@pytest.fixture(scope="session")
def process_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessStack]:
    with ProcessStack(tmp_path_factory.mktemp("process-stack")) as stack:
        yield stack


MakeStack = Callable[..., ProcessStack]


@pytest.fixture
def make_process_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeStack]:
    stacks: list[ProcessStack] = []

    def make(
        *,
        copy_code: bool = False,
        code_root: Path | None = None,
        start_daemon: bool = True,
        auto_reload: bool = True,
    ) -> ProcessStack:
        workdir = tmp_path_factory.mktemp("own-stack")
        if copy_code:
            code_root = copy_repository(workdir / "repo")
        stack = ProcessStack(
            workdir / "run", code_root or REPO_ROOT, start_daemon=start_daemon, auto_reload=auto_reload
        )
        stacks.append(stack)  # registered before start: a failed start is cleaned up too
        return stack.start()

    yield make
    for stack in stacks:
        stack.stop()
