"""The backfill story of issue 20 on the real compose stack (tests/support/backfill_story.py): files land in
the landing volume through user-code, the warehouse is read through postgres, everything else goes through
the CLI twins against the published webserver."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import backfill_story as story
from tests.support.docker_engine import ComposeStack

LANDING = "/opt/dagster/landing"
# Written under a dot name and renamed, as the sensor expects of any landed file.
LAND = (
    "import os, sys; tmp = os.path.join(sys.argv[1], '.' + sys.argv[2] + '.part'); "
    "open(tmp, 'w').write(sys.argv[3]); os.rename(tmp, os.path.join(sys.argv[1], sys.argv[2]))"
)
ORDERS_BY_DAY = "select order_date::text || '=' || count(*) from retail_raw.orders group by order_date"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("EDP_TUI_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


@pytest.fixture(scope="module")
def stack(compose_stack: ComposeStack) -> story.Stack:
    def land(name: str, text: str) -> None:
        compose_stack.compose("exec", "-T", "user-code", "python", "-c", LAND, LANDING, name, text)

    def unland(name: str) -> None:
        compose_stack.compose("exec", "-T", "user-code", "rm", "-f", f"{LANDING}/{name}")

    def orders_by_day() -> dict[str, int]:
        sql = f'psql -U "$POSTGRES_USER" -d warehouse -Atc "{ORDERS_BY_DAY}"'
        out = compose_stack.compose("exec", "-T", "postgres", "sh", "-c", sql).stdout
        pairs = (line.split("=") for line in out.split() if "=" in line)
        return {day: int(count) for day, count in pairs}

    return story.Stack(compose_stack.webserver_url, land, unland, orders_by_day)


def test_a_range_with_a_failing_day_shows_it_failed_and_reexecuting_it_reaches_success(
    stack: story.Stack,
) -> None:
    story.range_with_a_failing_day_reaches_success_after_reexecuting(stack)


def test_a_queued_run_says_which_limit_holds_it_and_cancel_stops_the_backfill(stack: story.Stack) -> None:
    story.queued_run_explained_and_cancel_stops(stack)
