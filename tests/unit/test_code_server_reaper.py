"""user-code's PID 1 (python -m edp_platform.code_server) reaps the orphans re-parented to it, and leaves
its code servers' exit statuses to their Popen (a leak found on the running stack: one zombie per reload).
The scenario runs in a process of its own: reaping in pytest's would take other tests' children."""

from __future__ import annotations

import json
import subprocess
import sys

SCENARIO = """
import json, os, subprocess, sys, time
from edp_platform.code_server.__main__ import reap_orphans

def zombie():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    return pid

def exists(pid):
    return os.path.exists(f"/proc/{pid}")

nothing = reap_orphans(set())
server = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
orphans = [zombie(), zombie()]
reaped, deadline = 0, time.monotonic() + 30
while time.monotonic() < deadline:
    code = server.poll()  # as main() polls its code servers before it reaps
    reaped += reap_orphans({server.pid})
    if code is not None and not any(exists(p) for p in orphans):
        break
    time.sleep(0.05)
print(json.dumps({"nothing": nothing, "reaped": reaped, "server": server.poll(),
                  "left": [p for p in orphans if exists(p)]}))
"""


def test_orphans_are_reaped_and_a_code_servers_status_is_left_to_its_popen() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCENARIO], capture_output=True, text=True, timeout=60, check=True
    )
    result = json.loads(out.stdout)
    assert result == {"nothing": 0, "reaped": 2, "server": 3, "left": []}
