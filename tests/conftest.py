"""Every layer's shared hook: with EDP_SKIPS_FAIL=1 (scripts/test.sh, so CI) a skipped test fails the run.

A skip says "this host cannot prove it" (no Compose, no tmux, no engine); CI's host has all of them, set up by
scripts/setup.sh, so a skip there means a test proved nothing while the run read green.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# No per-example deadline: hypothesis's default (200 ms) is a timed assertion, and on a 2-core host running
# other suites a healthy example can take longer (test_reload_coalesce and test_container_logs failed so).
settings.register_profile("edp", deadline=None)
settings.load_profile("edp")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("EDP_SKIPS_FAIL") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if reporter is not None:
            reporter.write_line(
                f"EDP_SKIPS_FAIL=1: {len(skipped)} test(s) skipped on a host that should run them all",
                red=True,
            )
