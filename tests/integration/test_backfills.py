"""Backfills, partition health and the run queue on a process stack of their own (pool limits and landed files
must not leak into the shared stack): the story of tests/support/backfill_story.py, in order, through the CLI
twins, checked through GraphQL and the warehouse."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import backfill_story as story
from tests.support.process_stack import ProcessStack


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("EDP_TUI_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[story.Stack]:
    with ProcessStack(tmp_path_factory.mktemp("backfills")) as own:

        def land(name: str, text: str) -> None:
            partial = own.landing_dir / f".{name}.part"  # the sensor never sees a half-written file
            partial.write_text(text)
            partial.rename(own.landing_dir / name)

        def orders_by_day() -> dict[str, int]:
            conn = own.warehouse_connection()
            try:
                with conn.cursor() as cur:
                    cur.execute("select order_date::text, count(*) from retail_raw.orders group by 1")
                    return dict(cur.fetchall())
            finally:
                conn.close()

        yield story.Stack(
            own.webserver_url, land, lambda name: (own.landing_dir / name).unlink(), orders_by_day
        )


def test_a_range_of_the_whole_pipeline_reaches_success_with_the_counts_right(stack: story.Stack) -> None:
    story.range_reaches_success(stack)


def test_a_failing_day_shows_failed_and_reexecuting_the_failed_partitions_fixes_it(
    stack: story.Stack,
) -> None:
    story.failing_day_is_fixed_by_reexecuting(stack)


def test_a_queued_run_says_which_limit_holds_it_and_cancel_stops_the_backfill(stack: story.Stack) -> None:
    story.queued_run_explained_and_cancel_stops(stack)
