"""scripts/test.sh runs pytest with EDP_SKIPS_FAIL=1: a skip then fails the run (tests/conftest.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def run_layer(tmp_path: Path, body: str, skips_fail: bool) -> int:
    layer = tmp_path / "tests"
    (layer / "unit").mkdir(parents=True)
    shutil.copy(TESTS / "conftest.py", layer / "conftest.py")
    (layer / "unit" / "test_one.py").write_text(body)
    env = {k: v for k, v in os.environ.items() if k != "EDP_SKIPS_FAIL"}
    if skips_fail:
        env["EDP_SKIPS_FAIL"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", str(layer)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=120,
    ).returncode


SKIPPING = "import pytest\n\ndef test_a():\n    pass\n\ndef test_b():\n    pytest.skip('no tmux')\n"
PASSING = "def test_a():\n    pass\n"


def test_a_skip_fails_the_run_where_everything_should_run(tmp_path: Path) -> None:
    assert run_layer(tmp_path, SKIPPING, skips_fail=True) == 1


def test_a_skip_is_a_skip_elsewhere_and_a_green_run_stays_green(tmp_path: Path) -> None:
    assert run_layer(tmp_path / "a", SKIPPING, skips_fail=False) == 0
    assert run_layer(tmp_path / "b", PASSING, skips_fail=True) == 0
