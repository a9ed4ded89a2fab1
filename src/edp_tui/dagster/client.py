"""Async client for the Dagster webserver's GraphQL API (httpx for queries, websockets for subscriptions).

Deliberately does not import ``dagster`` or ``dagster_graphql``: they are far heavier to import than the
whole dashboard (docs/performance.md), and the dashboard must start fast. Documents are the ``.graphql``
files beside this module, sent with variables only.

Long module: one method per GraphQL operation the dashboard and the CLI use (locations, runs, logs, assets,
schedules/sensors, daemon), each a few lines over the shared transport; splitting them would split the API.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import ssl
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import httpx

from edp_tui.dagster.asset_history import HISTORY_LIMIT, MaterializationRecord
from edp_tui.dagster.assets import ASSET_JOB, AssetChangeSignals, AssetInfo, AssetKey
from edp_tui.dagster.check_detail import CheckExecution
from edp_tui.dagster.daemon_errors import DaemonErrorHistory
from edp_tui.dagster.early import EarlyReads, Read
from edp_tui.dagster.errors import (
    DagsterError,
    DagsterGraphQLError,
    DagsterHTTPError,
    DagsterPythonError,
    DagsterRequestRejected,
    DagsterUnreachable,
    ReadOnlyRefused,
    RunConfigInvalid,
)
from edp_tui.dagster.graphql_ws import frame_data, object_field, parse_frame
from edp_tui.dagster.models import (
    DEFAULT_STALE_AFTER_S,
    JSON,
    DaemonHealth,
    DaemonStatus,
    EventPage,
    InstigatorInfo,
    LocationEvent,
    LocationInfo,
    LogChunk,
    LogKey,
    RunDetail,
    RunSummary,
    run_config_problem_from_graphql,
)
from edp_tui.dagster.partition_client import PartitionOperations
from edp_tui.dagster.reexecution import step_reexecution_params
from edp_tui.dagster.run_config import RunConfigSyntaxError, merge_run_config, parse_run_config
from edp_tui.dagster.run_push import RunStatusChange, status_changes
from edp_tui.dagster.runs_query import PARTITION_TAG

# logsForRun silently clamps to this many events per call.
EVENTS_PAGE_MAX = 1000
# Bytes per stream per capturedLogs call; chunks may end mid-line, callers re-split.
LOG_CHUNK_BYTES = 65536
RUNS_PAGE_MAX = 500
# A reload restarts the code server's subprocess (imports dagster, dbt, the user's code): seconds when idle,
# over a minute on a loaded 2-core machine. Mutations that launch runs also take longer than queries.
RELOAD_TIMEOUT_S = 180.0
MUTATION_TIMEOUT_S = 60.0
# Answers this large are decoded, and lists this long parsed, in a thread: not on the caller's event loop.
LARGE_ANSWER_BYTES = 256 * 1024
LARGE_ANSWER_ITEMS = 500


def payload(name: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The JSON body of a POST of document ``name``."""
    return {"query": document(name), "variables": dict(variables or {}), "operationName": name}


def runs_variables(
    limit: int = 50, cursor: str | None = None, run_filter: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The variables of a ``RunsLean`` read (one place: an early read must ask exactly what `runs` asks)."""
    return {"filter": dict(run_filter) if run_filter else None, "cursor": cursor, "limit": limit}


@cache
def document(name: str) -> str:
    """The text of ``documents/<name>.graphql`` with the fragments it spreads appended, read once per process.

    A fragment ``...Name`` lives in ``documents/fragments/Name.graphql`` (one fragment per file, no nesting).
    """
    root = resources.files("edp_tui.dagster").joinpath("documents")
    text = root.joinpath(f"{name}.graphql").read_text("utf-8")
    used = sorted(set(FRAGMENT_SPREAD.findall(text)))
    return "\n".join([text, *(root.joinpath("fragments", f"{f}.graphql").read_text("utf-8") for f in used)])


FRAGMENT_SPREAD = re.compile(r"\.\.\.\s*([A-Z][A-Za-z0-9_]*)")


def repository_selector(location: str, repository: str) -> dict[str, Any]:
    return {"repositorySelector": {"repositoryLocationName": location, "repositoryName": repository}}


def _python_error(obj: Mapping[str, Any]) -> DagsterPythonError:
    chain = tuple(
        f"{link['error'].get('className')}: {link['error'].get('message', '').strip()}"
        for link in obj.get("errorChain") or []
        if link.get("error")
    )
    return DagsterPythonError(obj.get("message", ""), obj.get("className"), chain)


def expect(obj: Any, *ok: str) -> JSON:
    """Return a union result if its ``__typename`` is one of ``ok``, else raise the matching error type."""
    if not isinstance(obj, dict):
        raise DagsterGraphQLError([f"expected an object, got {obj!r}"])
    typename = obj.get("__typename", "")
    if typename in ok:
        return obj
    if typename == "PythonError":
        raise _python_error(obj)
    if typename == "RunConfigValidationInvalid":
        errors = tuple(run_config_problem_from_graphql(e) for e in obj.get("errors") or [])
        raise RunConfigInvalid(obj.get("pipelineName") or "", errors)
    message = obj.get("message")
    if message is None:
        # Some error members carry no message, only fields (InvalidStepError { invalidStepKey }).
        message = ", ".join(f"{k}={v}" for k, v in obj.items() if k != "__typename")
    raise DagsterRequestRejected(typename or "UnknownResult", str(message))


class DagsterClient(PartitionOperations):
    """One webserver. Safe to share between workers of one event loop; call :meth:`aclose` when done.

    ``read_only`` refuses every mutation (launch, terminate, reload, schedule/sensor
    toggles, backfills, pool limits) before it is sent. Partitions, backfills and the run queue:
    partition_client.PartitionOperations.
    """

    def __init__(
        self,
        graphql_url: str,
        *,
        timeout: float = 10.0,
        read_only: bool = False,
        stale_after_s: float = DEFAULT_STALE_AFTER_S,
        transport: httpx.AsyncBaseTransport | None = None,
        error_history: DaemonErrorHistory | None = None,
        ca_file: Path | None = None,
    ) -> None:
        self.graphql_url = graphql_url
        self.ca_file = ca_file
        self._tls: ssl.SSLContext | None = None
        # What the daemons' heartbeats told of their errors (in memory unless the caller shares a file).
        self.error_history = error_history or DaemonErrorHistory(graphql_url)
        self.ws_url = "ws" + graphql_url[4:] if graphql_url.startswith("http") else graphql_url
        self.read_only = read_only
        self.stale_after_s = stale_after_s
        self._timeout = timeout
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._ids = itertools.count(1)
        self._early: EarlyReads | None = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None or self._http.is_closed:
            transport = self._transport
            if transport is None and self.graphql_url.startswith("http://"):
                # Plain HTTP needs no certificates: without this httpx loads the CA bundle at every start.
                transport = httpx.AsyncHTTPTransport(verify=False, trust_env=False)
            # trust_env=False: a proxy from the environment must not intercept a local webserver.
            self._http = httpx.AsyncClient(
                timeout=self._timeout,
                trust_env=False,
                transport=transport,
                verify=self.tls() if self.graphql_url.startswith("https://") else True,
            )
        return self._http

    def tls(self) -> ssl.SSLContext:
        """The one TLS setting of both the HTTP client and the websocket: the certificates of ``ca_file``,
        else the system's store (httpx and websockets would otherwise differ: certifi's bundle against the
        system's)."""
        if self._tls is None:
            try:
                self._tls = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
            except (OSError, ssl.SSLError) as exc:
                reason = f"cannot use ca_file {self.ca_file}: {exc}"
                raise DagsterUnreachable(self.graphql_url, reason) from exc
        return self._tls

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def __aenter__(self) -> DagsterClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ---- transport ----
    async def execute(
        self, name: str, variables: Mapping[str, Any] | None = None, *, timeout: float | None = None
    ) -> JSON:
        """POST document ``name`` and return its ``data``. Parses the body whatever the HTTP status:
        Dagster returns resolver failures as HTTP 500 with a normal ``data`` payload."""
        response = await self._early_answer(name, variables)
        if response is None:
            try:
                response = await self._client().post(
                    self.graphql_url,
                    json=payload(name, variables),
                    timeout=timeout if timeout is not None else self._timeout,
                )
            except httpx.TransportError as exc:
                raise DagsterUnreachable(self.graphql_url, str(exc) or type(exc).__name__) from exc
        try:
            # A large answer (the Assets of a big dbt project) is decoded in a thread, off the event loop.
            big = len(response.content) > LARGE_ANSWER_BYTES
            body = await asyncio.to_thread(response.json) if big else response.json()
        except ValueError:
            raise DagsterHTTPError(response.status_code, response.text) from None
        if not isinstance(body, dict):
            raise DagsterHTTPError(response.status_code, response.text)
        data = body.get("data")
        errors = [str(e.get("message", e)) for e in body.get("errors") or [] if isinstance(e, dict)]
        if not isinstance(data, dict) or any(v is None for v in data.values()):
            if errors:
                raise DagsterGraphQLError(errors)
            if response.status_code >= 400 or not isinstance(data, dict):
                raise DagsterHTTPError(response.status_code, response.text)
        # Partial errors next to usable data are ignored on purpose: the union result says what happened.
        return data

    def read_early(self, reads: Sequence[Read], *, transport: httpx.BaseTransport | None = None) -> None:
        """Send these reads now (threads of their own, a blocking connection): the first `execute` of each
        takes its answer (`EarlyReads`). For the dashboard's first polls, sent while the UI is imported.
        ``transport``: what answers them instead of the webserver (tests)."""
        try:
            verify: ssl.SSLContext | bool = self.tls() if self.graphql_url.startswith("https://") else False
        except DagsterUnreachable:
            return  # an unusable ca_file: the panels' own reads say so where it shows
        client = httpx.Client(timeout=self._timeout, trust_env=False, verify=verify, transport=transport)
        self._early = EarlyReads(self.graphql_url, reads, payload, client=client)

    async def _early_answer(self, name: str, variables: Mapping[str, Any] | None) -> httpx.Response | None:
        answer = self._early.take(name, variables) if self._early is not None else None
        if answer is None:
            return None
        try:
            return await asyncio.wrap_future(answer)
        except httpx.TimeoutException as exc:  # timed out: asking again would wait as long again
            raise DagsterUnreachable(self.graphql_url, str(exc) or type(exc).__name__) from exc
        except Exception:  # noqa: BLE001 - any other failure (refused: not up yet): ask again, as if never sent
            return None

    async def subscribe(self, name: str, variables: Mapping[str, Any] | None = None) -> AsyncIterator[JSON]:
        """Yield the ``data`` of each frame of a subscription (legacy ``graphql-ws``) until ``complete``."""
        from websockets.asyncio.client import connect
        from websockets.exceptions import WebSocketException
        from websockets.typing import Subprotocol

        op_id = str(next(self._ids))
        try:
            async with connect(
                self.ws_url,
                subprotocols=[Subprotocol("graphql-ws")],
                open_timeout=self._timeout,
                proxy=None,
                ssl=self.tls() if self.ws_url.startswith("wss://") else None,
            ) as ws:
                await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
                start = {
                    "id": op_id,
                    "type": "start",
                    # The server reads the operation name from snake_case `operation_name`.
                    "payload": {
                        "query": document(name),
                        "variables": dict(variables or {}),
                        "operation_name": name,
                    },
                }
                await ws.send(json.dumps(start))
                async for raw in ws:
                    frame = parse_frame(raw)
                    kind = frame.get("type")
                    if kind in ("connection_ack", "ka"):
                        continue
                    if kind == "connection_error":
                        raise DagsterGraphQLError([json.dumps(frame.get("payload"))])
                    if frame.get("id") != op_id:
                        continue
                    if kind == "complete":
                        return
                    if kind == "error":
                        payload = frame.get("payload")
                        msgs = payload if isinstance(payload, list) else [payload]
                        raise DagsterGraphQLError(
                            [str(m.get("message", m)) if isinstance(m, dict) else str(m) for m in msgs]
                        )
                    if kind == "data":
                        yield frame_data(frame)
                # Closed without `complete`: the caller must learn the stream was cut, not that it ended.
                raise DagsterUnreachable(self.ws_url, "the webserver closed the subscription")
        except (TimeoutError, OSError, WebSocketException) as exc:
            raise DagsterUnreachable(self.ws_url, str(exc) or type(exc).__name__) from exc

    def _refuse_if_read_only(self, action: str) -> None:
        if self.read_only:
            raise ReadOnlyRefused(action)

    # ---- code locations ----
    async def locations(self) -> list[LocationInfo]:
        data = await self.execute("Workspace")
        ws = expect(data["workspaceOrError"], "Workspace")
        return [LocationInfo.from_graphql(e) for e in ws.get("locationEntries") or []]

    async def reload_location(self, name: str) -> LocationInfo:
        """Reload one location (re-imports code with `dagster code-server start`). The returned entry can be
        stale if the code changed during the reload; callers should re-read :meth:`locations` afterwards."""
        self._refuse_if_read_only(f"reload of {name}")
        data = await self.execute("ReloadLocation", {"name": name}, timeout=RELOAD_TIMEOUT_S)
        entry = expect(data["reloadRepositoryLocation"], "WorkspaceLocationEntry")
        return LocationInfo.from_graphql(entry)

    async def location_events(self) -> AsyncIterator[LocationEvent]:
        async for data in self.subscribe("LocationStateChanges"):
            yield LocationEvent.from_graphql(object_field(data, "locationStateChangeEvents"))

    # ---- runs ----
    async def runs(
        self,
        limit: int = 50,
        cursor: str | None = None,
        *,
        statuses: list[str] | None = None,
        job_name: str | None = None,
        updated_after: float | None = None,
        tags: Mapping[str, str] | None = None,
        run_ids: list[str] | None = None,
    ) -> list[RunSummary]:
        """Newest first, at most ``limit`` (bounded: the server has no cap of its own).
        ``cursor`` is the last run id of the previous page; every one of ``tags`` must match; ``run_ids``
        are full ids."""
        limit = max(1, min(limit, RUNS_PAGE_MAX))
        run_filter: dict[str, Any] = {}
        if statuses:
            run_filter["statuses"] = statuses
        if job_name:
            run_filter["pipelineName"] = job_name
        if updated_after is not None:
            run_filter["updatedAfter"] = updated_after
        if tags:
            run_filter["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
        if run_ids:
            run_filter["runIds"] = list(run_ids)
        data = await self.execute("RunsLean", runs_variables(limit, cursor, run_filter))
        runs = expect(data["runsOrError"], "Runs")
        return [RunSummary.from_graphql(r) for r in runs.get("results") or []]

    async def run_status_changes(self, run_id: str) -> AsyncIterator[list[RunStatusChange]]:
        """Push: the run's status changes, one list per frame (past events first, then as they are stored);
        never ends by itself (stop it once the run is terminal)."""
        async for data in self.subscribe("RunStatusEvents", {"runId": run_id}):
            yield status_changes(run_id, object_field(data, "pipelineRunLogs"))

    async def run(self, run_id: str) -> RunDetail:
        data = await self.execute("Run", {"runId": run_id})
        return RunDetail.from_graphql(expect(data["runOrError"], "Run"))

    async def run_events(
        self, run_id: str, after_cursor: str | None = None, limit: int = EVENTS_PAGE_MAX
    ) -> EventPage:
        data = await self.execute(
            "RunEvents", {"runId": run_id, "afterCursor": after_cursor, "limit": min(limit, EVENTS_PAGE_MAX)}
        )
        return EventPage.from_graphql(expect(data["logsForRun"], "EventConnection"))

    async def default_run_config(self, location: str, repository: str, job: str) -> str:
        selector = {"repositoryLocationName": location, "repositoryName": repository, "pipelineName": job}
        data = await self.execute("RunConfigSchema", {"selector": selector})
        return str(expect(data["runConfigSchemaOrError"], "RunConfigSchema").get("rootDefaultYaml") or "")

    async def partition_run_config(
        self, location: str, repository: str, job: str, partition: str
    ) -> dict[str, Any] | None:
        """The run config of ``partition`` of a partitioned job (its default config, its partitioned config
        function's result); None when the job has no partition set."""
        variables = {
            "repository": {"repositoryLocationName": location, "repositoryName": repository},
            "partitionSet": f"{job}_partition_set",  # Dagster's name for a job's partition set
            "partition": partition,
        }
        data = await self.execute("PartitionRunConfig", variables)
        found = data["partitionSetOrError"]
        if isinstance(found, dict) and found.get("__typename") == "PartitionSetNotFoundError":
            return None
        one = expect(found, "PartitionSet").get("partition") or {}
        text = expect(one.get("runConfigOrError"), "PartitionRunConfig").get("yaml") or ""
        try:
            return parse_run_config(text)
        except RunConfigSyntaxError as exc:  # Dagster's own YAML: not expected, said as its answer
            raise DagsterGraphQLError([f"partition {partition} of {job}: run config {exc}"]) from exc

    async def launch_run(
        self,
        location: str,
        repository: str,
        job: str,
        run_config: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> RunSummary:
        """Launch a job. Raises :class:`RunConfigInvalid` (nothing launched) if the config is invalid.

        For a partition (the dagster/partition tag), the partition's own run config goes under
        ``run_config``, as Dagster's launchpad does: given bare, a partitioned job's default config (its
        executor, its ops' settings) would not apply."""
        self._refuse_if_read_only(f"launch of {job}")
        config = dict(run_config or {})
        partition = (tags or {}).get(PARTITION_TAG)
        if partition is not None:
            base = await self.partition_run_config(location, repository, job, partition)
            config = merge_run_config(base, config) if base else config
        params: dict[str, Any] = {
            "selector": {"repositoryLocationName": location, "repositoryName": repository, "jobName": job},
            "runConfigData": config,
        }
        if tags:
            params["executionMetadata"] = {"tags": [{"key": k, "value": v} for k, v in tags.items()]}
        data = await self.execute("LaunchRun", {"executionParams": params}, timeout=MUTATION_TIMEOUT_S)
        return RunSummary.from_graphql(expect(data["launchRun"], "LaunchRunSuccess")["run"])

    async def reexecute_run(
        self, run_id: str, strategy: str = "FROM_FAILURE", step_keys: list[str] | None = None
    ) -> RunSummary:
        """``strategy`` FROM_FAILURE or ALL_STEPS; with ``step_keys``, only those steps (strategy ignored)."""
        self._refuse_if_read_only(f"re-execution of {run_id}")
        if step_keys:
            return await self._reexecute_steps(run_id, step_keys)
        data = await self.execute(
            "LaunchReexecution",
            {"reexecutionParams": {"parentRunId": run_id, "strategy": strategy}},
            timeout=MUTATION_TIMEOUT_S,
        )
        return RunSummary.from_graphql(expect(data["launchRunReexecution"], "LaunchRunSuccess")["run"])

    async def _reexecute_steps(self, run_id: str, step_keys: list[str]) -> RunSummary:
        parent = await self.run(run_id)
        params = step_reexecution_params(parent, step_keys)
        data = await self.execute(
            "LaunchStepReexecution", {"executionParams": params}, timeout=MUTATION_TIMEOUT_S
        )
        return RunSummary.from_graphql(expect(data["launchRunReexecution"], "LaunchRunSuccess")["run"])

    async def terminate_run(self, run_id: str, *, force: bool = False) -> None:
        """Ask the run's worker to stop (SAFE_TERMINATE); ``force`` marks the run canceled at once
        (MARK_AS_CANCELED_IMMEDIATELY, as Dagster's UI offers for a run whose worker is gone)."""
        self._refuse_if_read_only(f"{'forced ' if force else ''}termination of {run_id}")
        policy = "MARK_AS_CANCELED_IMMEDIATELY" if force else "SAFE_TERMINATE"
        data = await self.execute(
            "TerminateRun", {"runId": run_id, "terminatePolicy": policy}, timeout=MUTATION_TIMEOUT_S
        )
        expect(data["terminateRun"], "TerminateRunSuccess")

    # ---- compute logs ----
    async def captured_logs(
        self, key: LogKey, cursor: str | None = None, limit: int = LOG_CHUNK_BYTES
    ) -> LogChunk:
        data = await self.execute("CapturedLogs", {"logKey": key.as_list(), "cursor": cursor, "limit": limit})
        return LogChunk.from_graphql(data["capturedLogs"])

    async def captured_logs_stream(self, key: LogKey, cursor: str | None = None) -> AsyncIterator[LogChunk]:
        """Push variant: chunks as the compute log manager sees them, ends when the step's log is complete
        (never for killed steps: stop when the run is terminal)."""
        async for data in self.subscribe("CapturedLogsSub", {"logKey": key.as_list(), "cursor": cursor}):
            # `capturedLogs: null` (nothing captured yet) is an empty chunk.
            yield LogChunk.from_graphql(object_field(data, "capturedLogs"))

    # ---- assets ----
    async def assets(self) -> list[AssetInfo]:
        """Every asset of the workspace (graph edges, last materialization, checks, staleness). Thousands of
        them are parsed in a thread: the caller's event loop keeps answering keys meanwhile."""
        data = await self.execute("Assets")
        nodes = data.get("assetNodes") or []
        if len(nodes) < LARGE_ANSWER_ITEMS:
            return [AssetInfo.from_graphql(a) for a in nodes]
        return await asyncio.to_thread(lambda: [AssetInfo.from_graphql(a) for a in nodes])

    async def check_execution(self, key: AssetKey, check_name: str) -> CheckExecution | None:
        """The latest execution of one check with its metadata (None: never executed)."""
        variables = {"assetKey": {"path": list(key)}, "checkName": check_name}
        data = await self.execute("AssetCheckExecution", variables)
        executions = data.get("assetCheckExecutions") or []
        return CheckExecution.from_graphql(executions[0]) if executions else None

    async def asset_history(self, key: AssetKey, limit: int = HISTORY_LIMIT) -> list[MaterializationRecord]:
        """The last ``limit`` materializations of one asset with their metadata, newest first."""
        data = await self.execute("AssetHistory", {"assetKey": {"path": list(key)}, "limit": limit})
        asset = expect(data["assetOrError"], "Asset")
        return [MaterializationRecord.from_graphql(m) for m in asset.get("assetMaterializations") or []]

    async def asset_change_signals(self, since: float) -> AssetChangeSignals:
        """One cheap request: whether the Assets query could answer anything new since ``since`` (epoch s)."""
        return AssetChangeSignals.from_graphql(await self.execute("AssetsChanged", {"since": since}))

    async def materialize(
        self, location: str, repository: str, keys: Sequence[AssetKey], partition: str | None = None
    ) -> RunSummary:
        """Launch the implicit asset job on ``keys`` (their checks run with them); ``partition`` is the one
        partition of the partitioned ones among them (the unpartitioned ones are built as they are)."""
        names = ", ".join("/".join(k) for k in keys)
        self._refuse_if_read_only(f"materialization of {names}")
        if not keys:
            raise ValueError("nothing to materialize")
        params: dict[str, Any] = {
            "selector": {
                "repositoryLocationName": location,
                "repositoryName": repository,
                "jobName": ASSET_JOB,
                "assetSelection": [{"path": list(k)} for k in keys],
            },
            "runConfigData": {},
        }
        if partition is not None:
            params["executionMetadata"] = {"tags": [{"key": PARTITION_TAG, "value": partition}]}
        data = await self.execute("LaunchRun", {"executionParams": params}, timeout=MUTATION_TIMEOUT_S)
        return RunSummary.from_graphql(expect(data["launchRun"], "LaunchRunSuccess")["run"])

    # ---- schedules and sensors ----
    async def instigators(self, location: str, repository: str) -> list[InstigatorInfo]:
        """Schedules then sensors of one repository."""
        schedules, sensors = await asyncio.gather(
            self._schedules(location, repository), self.sensors(location, repository)
        )
        return [*schedules, *sensors]

    async def _schedules(self, location: str, repository: str) -> list[InstigatorInfo]:
        data = await self.execute("Schedules", repository_selector(location, repository))
        schedules = expect(data["schedulesOrError"], "Schedules")
        results = schedules.get("results") or []
        return [InstigatorInfo.schedule_from_graphql(s, location, repository) for s in results]

    async def sensors(self, location: str, repository: str) -> list[InstigatorInfo]:
        """The sensors of one repository alone (a sensor's tick changes nothing else)."""
        data = await self.execute("Sensors", repository_selector(location, repository))
        sensors = expect(data["sensorsOrError"], "Sensors")
        return [
            InstigatorInfo.sensor_from_graphql(s, location, repository) for s in sensors.get("results") or []
        ]

    async def set_running(self, item: InstigatorInfo, running: bool) -> str:
        """Start or stop a schedule or sensor; returns the new status reported by Dagster."""
        self._refuse_if_read_only(f"{'start' if running else 'stop'} of {item.kind} {item.name}")
        if item.kind == "schedule":
            if running:
                sel = {"repositoryLocationName": item.location, "repositoryName": item.repository}
                data = await self.execute(
                    "StartSchedule", {"scheduleSelector": {**sel, "scheduleName": item.name}}
                )
                result = expect(data["startSchedule"], "ScheduleStateResult")
            else:
                data = await self.execute(
                    "StopSchedule", {"id": item.state_id, "scheduleSelectorId": item.selector_id}
                )
                result = expect(data["stopRunningSchedule"], "ScheduleStateResult")
            return str(result["scheduleState"]["status"])
        if running:
            sel = {"repositoryLocationName": item.location, "repositoryName": item.repository}
            data = await self.execute("StartSensor", {"sensorSelector": {**sel, "sensorName": item.name}})
            return str(expect(data["startSensor"], "Sensor")["sensorState"]["status"])
        data = await self.execute("StopSensor", {"id": item.state_id, "jobSelectorId": item.selector_id})
        return str(expect(data["stopSensor"], "StopSensorMutationResult")["instigationState"]["status"])

    # ---- daemon ----
    async def daemon_health(self, now: float | None = None) -> DaemonHealth:
        data = await self.execute("DaemonHealth")
        statuses = ((data.get("instance") or {}).get("daemonHealth") or {}).get("allDaemonStatuses") or []
        daemons = tuple(DaemonStatus.from_graphql(d) for d in statuses)
        seen = {
            d.daemon_type: self.error_history.observe(d.daemon_type, d.last_heartbeat, d.errors)
            for d in daemons
        }
        return DaemonHealth.evaluate(daemons, time.time() if now is None else now, self.stale_after_s, seen)


__all__ = ["DagsterClient", "DagsterError", "document", "expect"]
