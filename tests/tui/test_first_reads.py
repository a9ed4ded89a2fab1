"""The dashboard sends its first reads before the UI is imported (cli/dashboard.py FIRST_READS, `EarlyReads`):
they must be the reads its panels make first, or every start asks twice and waits as long as before."""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from shell_fakes import FakeServices, fake_backends, fixed_now  # noqa: E402

from edp_tui.cli.dashboard import FIRST_READS  # noqa: E402
from edp_tui.config import Config  # noqa: E402
from edp_tui.dagster.client import DagsterClient  # noqa: E402
from edp_tui.ui.app import EdpApp  # noqa: E402
from tests.support.pilot import until  # noqa: E402
from tests.unit.test_dagster_client import URL, captured  # noqa: E402

ANSWERS = {
    "Workspace": captured("workspace_loaded"),
    "RunsLean": captured("runs_lean"),
    "DaemonHealth": captured("daemon_health"),
}


def key(name: str, variables: Any) -> str:
    return name + json.dumps(variables, sort_keys=True)


async def test_the_first_reads_are_what_the_panels_read_first() -> None:
    asked: Counter[str] = Counter()
    lock = threading.Lock()

    def webserver(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        with lock:
            asked[key(body["operationName"], body["variables"])] += 1
        status, payload = ANSWERS.get(body["operationName"], (200, {"data": {}}))
        return httpx.Response(status, json=payload)

    client = DagsterClient(URL, transport=httpx.MockTransport(webserver))
    app = EdpApp(
        Config(compose_file=Path("/nonexistent/compose.yaml")),
        fake_backends(FakeServices(), client),
        now=fixed_now,
    )
    wanted = Counter(key(name, dict(variables)) for name, variables in FIRST_READS)
    async with app.run_test(size=(160, 45)) as pilot:
        # Each early read is taken by one read of the panels: as many of each as FIRST_READS sends.
        await until(pilot, lambda: not wanted - asked, what="every read of FIRST_READS from the panels")
