"""The abuse and fault suite of issue 19 on the real compose stack (the session's `compose_stack`): what a web
page, a careless save, a runaway query, a database restart and a hung daemon do to the platform. Each test
records its figures (what happened, how long until recovered, what was lost) in pytest's terminal summary
("abuse and fault figures"). Hardening it checks, by layer:

- cross-site requests (GET mutation, form/text POST, foreign Origin or Host, websocket): test_cross_site_*,
  a real Chromium on a page of another site, the Dagster UI in it; below: unit/test_webserver_guard,
  integration/test_platform_webserver_guard;
- a reload that never ends: test_odd_saves_*, test_endless_parse_*; below: unit and integration reload tests;
- a runaway warehouse query: test_runaway_warehouse_query_*; below: integration/test_platform_warehouse_role;
- a runaway process in user-code: test_a_runaway_in_user_code_*; below: unit/test_stack_growth_bounds;
- the first write after a PostgreSQL restart: test_first_launch_after_*; below: integration instance storage;
- a hung daemon: test_a_hung_daemon_*; below: unit/test_daemon_liveness;
- reserved tags: test_reserved_tags_*; below: unit trouble, tags and CLI tests (forced terminate);
- growth (logs, ticks, memory): test_growth_bounds_in_force; below: unit/test_stack_growth_bounds;
- not here: the lost-worker identity under a clock step (the host's clock is shared; unit tests on a /proc
  of their own and the integration tests on Dagster's run worker) and a status-file write error (a full disk
  of the host; unit/test_reload_status).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest

from tests.e2e.conftest import HEARTBEAT_TOLERANCE_S, PREPARE_TIMEOUT_S, STATEMENT_TIMEOUT_S
from tests.support import fault_figures
from tests.support import stack_runs as sr
from tests.support.docker_engine import ComposeStack
from tests.support.ports import free_port

RELOAD = 'mutation { reloadRepositoryLocation(repositoryLocationName: "etl_pipeline") { __typename } }'
FIGURES = fault_figures.ABUSE_FIGURES  # attack, before, now, recovered in, lost
CHROMIUM = "/usr/bin/chromium"
DEADLINE_S = 600.0


def record(attack: str, before: str, now: str, recovered: str, lost: str = "nothing") -> None:
    FIGURES.append((attack, before, now, recovered, lost))


def reload_status(stack: ComposeStack, location: str = "etl_pipeline") -> dict[str, Any]:
    out = stack.compose("exec", "-T", "user-code", "cat", f"/opt/dagster/reload/{location}.json").stdout
    return dict(json.loads(out))


def reload_ids(stack: ComposeStack) -> list[int]:
    return [int(r["id"]) for r in reload_status(stack)["reloads"]]


def reload_after(stack: ComposeStack, after: int) -> dict[str, Any] | None:
    return next((r for r in reload_status(stack)["reloads"] if r["id"] > after), None)


def edp_tui(stack: ComposeStack, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    binary = Path(sys.executable).parent / "edp-tui"
    return subprocess.run(
        [
            str(binary),
            "--compose-file",
            str(stack.compose_file),
            "--webserver-url",
            stack.webserver_url,
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **stack.env},
    )


def container(stack: ComposeStack, service: str) -> Any:
    client = docker.from_env()
    cid = stack.compose("ps", "-a", "-q", service).stdout.split()[0]
    return client.containers.get(cid)


# ---- cross-site requests -----------------------------------------------------------------------------------


def test_cross_site_shapes_are_refused_and_reload_nothing(compose_stack: ComposeStack) -> None:
    before = reload_ids(compose_stack)
    url = compose_stack.graphql_url
    with httpx.Client(timeout=60) as http:
        answers = {
            "GET mutation": http.get(url, params={"query": RELOAD}),
            "form POST": http.post(url, data={"query": RELOAD}),
            "text POST": http.post(
                url, content=json.dumps({"query": RELOAD}), headers={"content-type": "text/plain"}
            ),
            "foreign Origin": http.post(
                url, json={"query": RELOAD}, headers={"origin": "https://evil.example"}
            ),
            "foreign Host (DNS rebinding)": http.post(
                url, json={"query": RELOAD}, headers={"host": "evil.example"}
            ),
        }
    assert {shape: r.status_code for shape, r in answers.items()} == dict.fromkeys(answers, 403)
    assert reload_ids(compose_stack) == before
    record(
        "cross-site GraphQL (GET mutation, form/text POST, foreign Origin or Host)",
        "executed: a GET mutation reloaded the location",
        "403 before Dagster; nothing reloaded",
        "-",
    )


class AttackPage(BaseHTTPRequestHandler):
    """The page of another site the operator happens to have open: it tries every cross-site request a page
    can make without the user's help."""

    target = ""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        mutation = RELOAD.replace('"', '\\"')
        page = f"""<!doctype html><html><body>
<img src="{self.target}/graphql?query={RELOAD}">
<iframe name="sink"></iframe>
<form id="f" method="POST" action="{self.target}/graphql" enctype="text/plain" target="sink">
<input name='{{"query":"{mutation}","x":"' value='"}}'></form>
<script>
document.getElementById("f").submit();
fetch("{self.target}/graphql", {{method: "POST", mode: "no-cors",
  headers: {{"Content-Type": "text/plain; a=application/json"}},
  body: JSON.stringify({{query: "{mutation}"}})}});
const ws = new WebSocket("{self.target.replace("http", "ws")}/graphql", "graphql-ws");
ws.onopen = () => ws.send(JSON.stringify({{type: "connection_init"}}));
ws.onmessage = (e) => {{ document.title = "ws-" + JSON.parse(e.data).type; }};
ws.onerror = () => {{ document.title = "ws-refused"; }};
</script></body></html>"""
        body = page.encode()
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/setup.sh installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield chromium
        finally:
            chromium.close()


def test_a_page_of_another_site_in_a_real_browser_changes_nothing(
    compose_stack: ComposeStack, browser: Any
) -> None:
    before = reload_ids(compose_stack)
    AttackPage.target = compose_stack.webserver_url
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), AttackPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = browser.new_page()
        # localhost is another site than 127.0.0.1 for the browser.
        page.goto(f"http://localhost:{server.server_address[1]}/")
        page.wait_for_function("document.title.startsWith('ws-')", timeout=60_000)
        title = page.title()
    finally:
        server.shutdown()
    assert title == "ws-refused"  # no connection_ack: the page cannot subscribe to run events or logs
    logs = compose_stack.compose("logs", "--no-color", "dagster-webserver").stdout
    assert logs.count("refused") >= 3, logs[-3000:]
    assert reload_ids(compose_stack) == before
    record(
        "a page of another site in Chromium (img GET, text/plain form, no-cors fetch, websocket)",
        "GET and text posts executed; websocket acknowledged, events readable",
        "all refused (403 / upgrade refused); nothing changed",
        "-",
    )


def test_the_dagster_ui_works_through_the_guard(compose_stack: ComposeStack, browser: Any) -> None:
    run_id = sr.launch(
        compose_stack.graphql, "ingestion_job", {"ops": {"raw_retail_data": {"config": {"orders": 5}}}}
    )
    sr.wait_for_status(compose_stack.graphql, run_id, sr.FINISHED, DEADLINE_S)
    page = browser.new_page()
    refused: list[str] = []
    acks: list[str] = []
    page.on("response", lambda r: refused.append(r.url) if r.status == 403 else None)
    page.on(
        "websocket",
        lambda ws: ws.on(
            "framereceived", lambda frame: acks.append(str(frame)) if "connection_ack" in str(frame) else None
        ),
    )
    page.goto(f"{compose_stack.webserver_url}/runs/{run_id}")
    page.get_by_text("ingestion_job").first.wait_for(timeout=120_000)
    sr.wait_until("the UI's subscription acknowledged", lambda: acks, 120)
    page.goto(f"{compose_stack.webserver_url}/locations")
    page.get_by_text("etl_pipeline").first.wait_for(timeout=120_000)
    before = max(reload_ids(compose_stack))
    page.get_by_role("button", name="Reload all").click()
    record_ = sr.wait_until("the UI's reload done", lambda: reload_after(compose_stack, before), 300)
    assert record_["trigger"] == "grpc"
    assert refused == []
    record(
        "the Dagster UI in Chromium through the guard", "worked", "works (runs, subscriptions, reload)", "-"
    )


def test_dagster_graphql_client_and_edp_tui_work(compose_stack: ComposeStack) -> None:
    from dagster_graphql import DagsterGraphQLClient

    port = int(compose_stack.webserver_url.rsplit(":", 1)[1])
    client = DagsterGraphQLClient("127.0.0.1", port_number=port)
    assert client.reload_repository_location("etl_pipeline").status.name == "SUCCESS"
    reloaded = edp_tui(compose_stack, "reload", "etl_pipeline")
    assert reloaded.returncode == 0, reloaded.stderr


def test_reserved_tags_are_refused_at_launch(compose_stack: ComposeStack) -> None:
    params = {
        "selector": {
            "repositoryLocationName": "etl_pipeline",
            "repositoryName": "__repository__",
            "jobName": "ingestion_job",
        },
        "executionMetadata": {"tags": [{"key": "edp/lost_worker", "value": "forged"}]},
    }
    response = httpx.post(
        compose_stack.graphql_url, json={"query": sr.LAUNCH, "variables": {"params": params}}, timeout=60
    )
    assert response.status_code == 403
    cli = edp_tui(compose_stack, "launch", "ingestion_job", "--tag", "edp/lost_worker=forged")
    assert cli.returncode == 2 and "reserved" in cli.stderr
    record(
        "a launch tagged edp/lost_worker (forced terminate offered on a live run)",
        "accepted; the dashboard offered force",
        "refused (403, CLI exit 2); the verdict names its run",
        "-",
    )


# ---- reloads that never end --------------------------------------------------------------------------------


def models_dir(stack: ComposeStack) -> Path:
    return stack.repo / "dbt_project" / "models"


@pytest.mark.parametrize("kind", ["fifo", "multi-GB seed", "link to /dev/zero"])
def test_odd_saves_are_reloads_that_end_and_serve(compose_stack: ComposeStack, kind: str) -> None:
    before = max(reload_ids(compose_stack))
    models = models_dir(compose_stack)
    if kind == "fifo":
        path = models / "pipe.sql"
        os.mkfifo(path)
    elif kind == "multi-GB seed":
        path = models.parent / "seeds" / "huge.csv"
        path.parent.mkdir(exist_ok=True)
        with open(path, "wb") as f:
            f.truncate(3 << 30)
    else:
        path = models / "zero.sql"
        path.symlink_to("/dev/zero")
    t0 = time.monotonic()
    try:
        done = sr.wait_until(f"a reload after the {kind}", lambda: reload_after(compose_stack, before), 300)
        took = time.monotonic() - t0
        assert done["outcome"] == "served", done
    finally:
        after = max(reload_ids(compose_stack))
        path.unlink()
        cleaned = sr.wait_until("a reload after the removal", lambda: reload_after(compose_stack, after), 300)
        assert cleaned["outcome"] == "served", cleaned
    record(
        f"a {kind} saved under dbt_project",
        "the reload hung for good (FIFO), or OOM-killed user-code (GB seed, /dev/zero)",
        "a reload that ends and serves",
        f"{took:.1f} s",
    )


ENDLESS = "{% for i in modules.itertools.count() %}{% endfor %}\nselect 1 as x\n"


def test_endless_parse_is_ended_while_runs_and_reloads_go_on(compose_stack: ComposeStack) -> None:
    before = max(reload_ids(compose_stack))
    endless = models_dir(compose_stack) / "endless.sql"
    endless.write_text(ENDLESS)
    t0 = time.monotonic()
    sr.wait_until(
        "the endless parse under way",
        lambda: (reload_status(compose_stack).get("in_progress") or {}).get("id", 0) > before,
        120,
    )
    # Meanwhile: reloads asked over GraphQL (each a gRPC ReloadCode) and a run launched and finished.
    threads = [
        threading.Thread(
            target=lambda: httpx.post(compose_stack.graphql_url, json={"query": RELOAD}, timeout=600)
        )
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    run_id = sr.launch(
        compose_stack.graphql, "ingestion_job", {"ops": {"raw_retail_data": {"config": {"orders": 5}}}}
    )
    assert sr.wait_for_status(compose_stack.graphql, run_id, sr.FINISHED, DEADLINE_S) == "SUCCESS"
    ended = sr.wait_until("the endless reload ended", lambda: reload_after(compose_stack, before), DEADLINE_S)
    took = time.monotonic() - t0
    assert ended["outcome"] == "failed" and "did not finish within" in ended["error"]["text"], ended
    for t in threads:
        t.join(DEADLINE_S)
    after = max(reload_ids(compose_stack))
    endless.unlink()
    fixed = sr.wait_until("the next save served", lambda: reload_after(compose_stack, after), 300)
    assert fixed["outcome"] == "served", fixed
    record(
        "a dbt project that keeps dbt parse busy for ever, 8 reloads asked meanwhile",
        "in_progress for good; every later save and reload hung; only a restart helped",
        "ended at EDP_DBT_PREPARE_TIMEOUT_S with a clear error; a run launched meanwhile succeeded",
        f"{took:.0f} s (the timeout: {PREPARE_TIMEOUT_S} s), next save served",
    )


# ---- one heavy query ---------------------------------------------------------------------------------------


def psql(
    stack: ComposeStack, user: str, db: str, sql: str, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    return stack.compose(
        "exec", "-T", "postgres", "psql", "-U", user, "-d", db, "-c", sql, check=False, timeout=timeout
    )


def test_runaway_warehouse_query_is_cut_off_and_dagster_goes_on(compose_stack: ComposeStack) -> None:
    postgres = container(compose_stack, "postgres")
    started_at = postgres.attrs["State"]["StartedAt"]
    slow: dict[str, Any] = {}
    t0 = time.monotonic()
    runaway = threading.Thread(
        target=lambda: slow.update(
            result=psql(compose_stack, "warehouse", "warehouse", "select pg_sleep(3600)")
        )
    )
    runaway.start()
    spill = psql(
        compose_stack,
        "warehouse",
        "warehouse",
        "select count(*) from (select g from generate_series(1, 2e8) g order by random()) s",
    )
    # Meanwhile a run of another job goes through the shared server.
    run_id = sr.launch(
        compose_stack.graphql, "ingestion_job", {"ops": {"raw_retail_data": {"config": {"orders": 5}}}}
    )
    assert sr.wait_for_status(compose_stack.graphql, run_id, sr.FINISHED, DEADLINE_S) == "SUCCESS"
    runaway.join(DEADLINE_S)
    took = time.monotonic() - t0
    assert "canceling statement due to statement timeout" in slow["result"].stderr, slow
    assert "temporary file size exceeds temp_file_limit" in spill.stderr, spill.stderr
    denied = psql(compose_stack, "warehouse", "dagster", "select 1")
    assert "permission denied for database" in denied.stderr, denied.stderr
    postgres.reload()
    assert postgres.attrs["State"]["StartedAt"] == started_at  # never restarted
    # Dagster's storage answered throughout: the daemon is still heartbeating.
    daemon = container(compose_stack, "dagster-daemon")
    assert daemon.attrs["State"]["Health"]["Status"] == "healthy"
    record(
        "a runaway warehouse query (a sleep, a sort spilling without bound)",
        "backends grew to 7.6 GB each; the host's OOM killer took PostgreSQL, Dagster's storage with it",
        "cut by the warehouse role's statement_timeout and temp_file_limit; a run of another job succeeded",
        f"{took:.0f} s (the e2e stack's {STATEMENT_TIMEOUT_S} s timeout)",
    )


RUNAWAY = """
import sys
chunks = []
limit = int(sys.argv[1])
while sum(map(len, chunks)) < limit + (1 << 30):  # past the container's limit: the cgroup must stop it
    chunks.append(bytearray(256 << 20))  # zero-filled: every page touched
print("not stopped at", sum(map(len, chunks)))
"""


def test_a_runaway_in_user_code_is_killed_inside_its_container(compose_stack: ComposeStack) -> None:
    """A run that eats memory (a process in user-code, as a run worker is) meets user-code's memory limit:
    the kernel kills it there, while PostgreSQL, the webserver, the daemon and user-code's code servers go
    on, and the next run succeeds."""
    services = ("postgres", "user-code", "dagster-webserver", "dagster-daemon")
    started = {name: container(compose_stack, name).attrs["State"]["StartedAt"] for name in services}
    limit = int(container(compose_stack, "user-code").attrs["HostConfig"]["Memory"])
    assert limit > 0
    t0 = time.monotonic()
    runaway = compose_stack.compose(
        "exec", "-T", "user-code", "python", "-c", RUNAWAY, str(limit), check=False, timeout=900
    )
    assert runaway.returncode == 137, (runaway.returncode, runaway.stdout, runaway.stderr)  # SIGKILL
    took = time.monotonic() - t0
    for name in services:
        now = container(compose_stack, name).attrs["State"]
        assert now["StartedAt"] == started[name] and now["Running"], name  # none restarted
    run_id = sr.launch(
        compose_stack.graphql, "ingestion_job", {"ops": {"raw_retail_data": {"config": {"orders": 5}}}}
    )
    assert sr.wait_for_status(compose_stack.graphql, run_id, sr.FINISHED, DEADLINE_S) == "SUCCESS"
    record(
        f"a runaway process in user-code (allocating past its {limit >> 30} GiB limit)",
        "no limit: the host's memory, then the kernel's OOM killer anywhere on the host",
        "killed inside user-code by its cgroup; the other services and the code servers untouched",
        f"{took:.0f} s; the next run succeeded",
    )


# ---- PostgreSQL restarted ----------------------------------------------------------------------------------


def test_first_launch_after_a_postgres_restart_succeeds(compose_stack: ComposeStack) -> None:
    compose_stack.compose("restart", "-t", "5", "postgres", timeout=300)
    t0 = time.monotonic()
    sr.wait_until(
        "postgres healthy",
        lambda: (
            container(compose_stack, "postgres").attrs["State"].get("Health", {}).get("Status") == "healthy"
        ),
        300,
    )
    first = edp_tui(compose_stack, "launch", "ingestion_job", "--partition", sr.DEMO_DAY, "--wait")
    took = time.monotonic() - t0
    assert first.returncode == 0, first.stdout + first.stderr
    record(
        "the first launch right after PostgreSQL restarted",
        "failed: 'server closed the connection unexpectedly' (the webserver's pooled connection)",
        "succeeds at the first try (connections checked at checkout in every process)",
        f"{took:.0f} s from healthy to the run's end",
    )


# ---- a hung daemon -----------------------------------------------------------------------------------------

STOP_DAEMON = """
import os, signal
for pid in os.listdir('/proc'):
    if pid.isdigit():
        try:
            cmd = open(f'/proc/{pid}/cmdline', 'rb').read().split(b'\\0')
        except OSError:
            continue
        # The daemon's own process (python -m edp_platform.daemon_run run ...), not the liveness wrapper.
        daemon = b'edp_platform.daemon_run' in cmd or any(p.endswith(b'dagster-daemon') for p in cmd[:2])
        if daemon and b'edp_platform.daemon_liveness' not in cmd:
            os.kill(int(pid), signal.SIGSTOP)
            print(pid)
"""


def test_a_hung_daemon_is_restarted(compose_stack: ComposeStack) -> None:
    daemon = container(compose_stack, "dagster-daemon")
    restarts = daemon.attrs["RestartCount"]
    stopped = compose_stack.compose(
        "exec", "-T", "dagster-daemon", "python", "-c", STOP_DAEMON
    ).stdout.split()
    assert stopped, "no dagster-daemon process found to stop"
    t0 = time.monotonic()

    def restarted() -> bool:
        daemon.reload()
        return (
            daemon.attrs["RestartCount"] > restarts
            and daemon.attrs["State"].get("Health", {}).get("Status") == "healthy"
        )

    sr.wait_until("the daemon restarted and healthy", restarted, DEADLINE_S, interval_s=2)
    took = time.monotonic() - t0
    logs = compose_stack.compose("logs", "--no-color", "dagster-daemon").stdout
    assert "answered not live" in logs
    record(
        "a hung daemon (SIGSTOP)",
        "reported unhealthy, never restarted",
        "ended and its container restarted after the heartbeat tolerance and 3 not-live answers",
        f"{took:.0f} s (tolerance {HEARTBEAT_TOLERANCE_S} s in the e2e stack)",
    )


# ---- growth ------------------------------------------------------------------------------------------------


def test_growth_bounds_in_force(compose_stack: ComposeStack) -> None:
    for service in ("postgres", "user-code", "dagster-webserver", "dagster-daemon"):
        host = container(compose_stack, service).attrs["HostConfig"]
        assert host["LogConfig"] == {"Type": "json-file", "Config": {"max-file": "3", "max-size": "10m"}}, (
            service
        )
        assert host["Memory"] > 0, service
