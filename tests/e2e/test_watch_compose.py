"""`edp-tui watch` against the real compose stack: a service killed while it watches is one
`service_unhealthy` event (its exit code in the text), and `--until service_unhealthy` exits 1 on it. The
service is started again afterwards (the session's stack is left as it was found)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.docker_engine import ComposeStack

SERVICE = "dagster-daemon"


def test_a_killed_service_is_one_alert_and_ends_watch(compose_stack: ComposeStack, tmp_path: Path) -> None:
    env = {**compose_stack.env, "XDG_CONFIG_HOME": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    env = {k: v for k, v in env.items() if not k.startswith("EDP_TUI_")}
    watch = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "edp_tui",
            "--compose-file",
            str(compose_stack.compose_file),
            "-p",
            compose_stack.project,
            "--webserver-url",
            compose_stack.webserver_url,
            "watch",
            "--json",
            "--until",
            "service_unhealthy",
            "--interval",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert watch.stderr is not None
        seen = []
        while not any("first look done" in line for line in seen):
            line = watch.stderr.readline()
            assert line, f"watch ended before its first look: {''.join(seen)}"
            seen.append(line)
        compose_stack.compose("kill", "-s", "SIGKILL", SERVICE)
        out, err = watch.communicate(timeout=120)
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait()
        compose_stack.compose("start", SERVICE, timeout=300)
    assert watch.returncode == 1, "".join(seen) + err
    events = [json.loads(line) for line in out.splitlines()]
    assert [(e["kind"], e["subject"]) for e in events] == [("service_unhealthy", SERVICE)], out
    assert "exited (137)" in events[0]["text"]
