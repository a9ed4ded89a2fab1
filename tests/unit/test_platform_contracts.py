"""The private surfaces of Dagster, dagster-dbt and docker-py that the platform and the dashboard rely on,
pinned: each test fails when an upgrade moves one, so the code that touches it is revisited with the upgrade
(the list, and why each is touched: docs/architecture.md). Fast: inspection of the installed code.

Pinned elsewhere, with behaviour: the compute-log manager's bookkeeping (test_compute_log_manager.py), the
storages' pooled engine against PostgreSQL (integration/test_platform_instance_storage.py), the run
coordinator's interval as the daemon builds it (test_run_coordinator.py), the dbt resource's skipped work on a
real dbt command (test_platform_dbt_resource.py).
"""

from __future__ import annotations

import inspect

import docker
import pytest
import requests
from dagster._cli.api import grpc_command
from dagster._grpc import impl as grpc_impl
from dagster._grpc.__generated__.dagster_api_pb2_grpc import DagsterApiServicer
from dagster._grpc.proxy_server import DagsterProxyApiServicer
from dagster_dbt import DbtCliResource
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage
from edp_platform.code_server import lost_workers
from edp_platform.code_server.supervisor import CheckingProxyServicer


def source(obj: object) -> str:
    return inspect.getsource(obj)  # type: ignore[arg-type]


def test_every_rpc_that_reloads_code_goes_through_the_check() -> None:
    """A new RPC that reloads (as ReloadCodeWithState came in 1.13) would reload unchecked: it must be
    overridden by the checking servicer before an upgrade lands."""
    rpcs = {name for name in vars(DagsterApiServicer) if name[:1].isupper()}
    reloading = {name for name in rpcs if "Reload" in name}
    assert reloading == {"ReloadCode", "ReloadCodeWithState"}
    for name in reloading:
        assert name in vars(CheckingProxyServicer), f"{name} is not routed through the check"
    # The proxy loads once from its constructor through _reload_location, which the checking servicer
    # replaces.
    init = source(DagsterProxyApiServicer.__init__)
    assert "self._reload_location()" in init
    assert "_reload_location" in vars(CheckingProxyServicer)


def test_the_proxy_state_the_checking_servicer_swaps_is_still_there() -> None:
    init = source(DagsterProxyApiServicer.__init__)
    for attribute in (
        "_client",
        "_load_error",
        "_reload_lock",
        "_client_heartbeat_shutdown_event",
        "_client_heartbeat_thread",
        "_container_context",
        "_container_image",
        "_location_name",
        "_log_level",
    ):
        assert f"self.{attribute} =" in init, attribute
    # Calls are proxied to whatever `_client` is (the server the swap put there).
    assert "self._client" in source(DagsterProxyApiServicer._query)
    assert "self._load_error" in source(DagsterProxyApiServicer.ListRepositories)
    # GetServerId asks the proxied server (none while a load error is served: the supervisor answers an id
    # of its own then, with Dagster's reply type).
    assert 'self._query("GetServerId"' in source(DagsterProxyApiServicer.GetServerId)
    from dagster._grpc.__generated__ import dagster_api_pb2

    assert dagster_api_pb2.GetServerIdReply(server_id="x").server_id == "x"


def test_dagster_api_grpc_still_takes_what_the_candidate_server_passes() -> None:
    options = {opt for param in grpc_command.params for opt in getattr(param, "opts", [])}
    for flag in (
        "--port",
        "--host",
        "--lazy-load-user-code",
        "--heartbeat",
        "--heartbeat-timeout",
        "--log-level",
        "--location-name",
        "-m",
        "--working-directory",
        "--container-context",
        "--container-image",
    ):
        assert flag in options, flag


def test_the_run_workers_pid_is_still_announced_as_the_watch_reads_it() -> None:
    text = source(grpc_impl)
    assert 'f"' + lost_workers.WORKER_STARTED_PREFIX + '{pid})."' in text
    assert "EngineEventData.in_process(pid)" in text  # the pid as the event's metadata "pid"
    from dagster._core.events import EngineEventData

    assert str(EngineEventData.in_process(42).metadata["pid"].value) == "42"


def test_the_postgres_storages_still_keep_their_engine_where_the_pooled_ones_replace_it() -> None:
    from dagster_postgres import PostgresScheduleStorage

    for cls in (PostgresRunStorage, PostgresEventLogStorage, PostgresScheduleStorage):
        init = source(cls.__init__)
        assert "self._engine" in init and "self._token_provider" in init, cls
        params = list(inspect.signature(cls.optimize_for_webserver).parameters)
        assert params == ["self", "statement_timeout", "pool_recycle", "max_overflow"], cls
        assert "self._engine" in source(cls.optimize_for_webserver), cls
        # What the pre-pinging engine of edp_platform.instance.storage repeats: the same pool, the timeout.
        assert "set_pg_statement_timeout" in source(cls.optimize_for_webserver), cls


def test_the_dbt_resource_still_pays_what_the_platform_skips() -> None:
    assert "_cli_version" in vars(DbtCliResource)
    assert callable(vars(DbtCliResource)["_initialize_dbt_core_adapter"])
    cli = source(DbtCliResource.cli)
    assert "self._initialize_dbt_core_adapter(args)" in cli and "self._cli_version" in cli


def test_dagster_dbt_still_unions_a_runtime_select_with_its_own() -> None:
    """Why a narrowed build gives dbt its whole selection (edp_platform.dbt.assets.selection_args): a
    --select passed to cli() is put beside dagster-dbt's own selection, which dbt unions, and a cli() call
    without a context adds none of its own."""
    from dagster_dbt.asset_utils import get_updated_cli_invocation_params_for_context

    text = source(get_updated_cli_invocation_params_for_context)
    assert 'selection_args = ["--select", " ".join(runtime_selects), *selection_args]' in text
    assert "if context and assets_def is not None:" in text


def test_a_multi_asset_output_still_costs_what_the_dbt_step_avoids() -> None:
    """Why the dbt step yields AssetMaterialization and AssetCheckEvaluation instead of Output and
    AssetCheckResult (edp_platform/dbt/events.py): every Output of an asset runs the topological check, which
    builds the step's output keys (a loop over every output, each building the set of every asset and check
    key), and a stored STEP_OUTPUT; a manual AssetMaterialization or AssetCheckEvaluation is one event."""
    from dagster._core.execution.context.system import StepExecutionContext
    from dagster._core.execution.plan import execute_step

    checked = source(execute_step._step_output_error_checked_user_event_sequence)
    assert "step_context.get_output_asset_keys()" in checked
    assert "get_selected_entity_keys_for_node" in source(StepExecutionContext.get_output_asset_keys)
    core = source(execute_step.core_dagster_event_sequence_for_step)
    assert "yield DagsterEvent.asset_materialization(step_context, user_event)" in core
    assert "yield DagsterEvent.asset_check_evaluation(step_context, user_event)" in core
    assert "failed_blocking_asset_check_evaluations.append(user_event)" in core


def test_the_data_provenance_the_dbt_step_writes_is_still_dagsters() -> None:
    """edp_platform/dbt/events.py writes the provenance tags of Dagster's Output path itself, with
    Dagster's own helpers (tests/unit/test_platform_dbt_events.py compares the results)."""
    from dagster._core.definitions import data_version
    from dagster._core.execution.plan import execute_step

    for name in (
        "CODE_VERSION_TAG",
        "DATA_VERSION_TAG",
        "DEFAULT_DATA_VERSION",
        "NULL_EVENT_POINTER",
        "compute_logical_data_version",
        "extract_data_version_from_entry",
        "get_input_data_version_tag",
        "get_input_event_pointer_tag",
    ):
        assert hasattr(data_version, name), name
    tags = source(execute_step._build_data_version_tags)
    for tag in ("CODE_VERSION_TAG", "get_input_data_version_tag", "get_input_event_pointer_tag"):
        assert tag in tags, tag
    assert "compute_logical_data_version(" in source(execute_step._get_output_asset_events)


def test_dagster_dbt_still_turns_a_result_into_an_ops_events() -> None:
    """What the dbt step reads from dagster-dbt (edp_platform.dbt.assets.run_build): the raw results of the
    invocation and their events for an op (no context)."""
    from dagster_dbt.core.dbt_cli_event import DbtCliEventMessage
    from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation

    params = inspect.signature(DbtCliEventMessage.to_default_asset_events).parameters
    assert list(params)[:4] == ["self", "manifest", "dagster_dbt_translator", "context"]
    assert "yield AssetCheckEvaluation(**properties)" in source(DbtCliEventMessage._to_test_events)
    assert "yield AssetMaterialization(asset_key=asset_key, metadata=metadata)" in source(
        DbtCliEventMessage._to_model_events
    )
    assert "stream_raw_events" in vars(DbtCliInvocation)
    fields = DbtCliInvocation.__dataclass_fields__
    assert "project_dir" in fields and "target_path" in fields


def test_the_subset_selection_and_the_job_graph_the_dbt_step_reads_are_still_there() -> None:
    """edp_platform.dbt.assets.selection_args asks dagster-dbt for a subset's selection; events.StepEvents
    asks the job's asset layer which of its assets another step reads."""
    from dagster._core.definitions.assets.job.asset_layer import AssetLayer
    from dagster_dbt.asset_utils import get_subset_selection_for_context

    params = list(inspect.signature(get_subset_selection_for_context).parameters)
    assert params == [
        "context",
        "manifest",
        "select",
        "exclude",
        "selector",
        "dagster_dbt_translator",
        "current_dbt_indirect_selection_env",
    ]
    assert callable(AssetLayer.has) and callable(AssetLayer.get)
    assert "child_keys" in source(execute_step_module()._step_output_error_checked_user_event_sequence)


def execute_step_module():
    from dagster._core.execution.plan import execute_step

    return execute_step


def test_dagster_dbt_still_reads_dbts_output_from_the_process_stdout() -> None:
    """What edp_platform.dbt.drain replaces: the dbt process's stdout, entered and iterated by dagster-dbt."""
    from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation

    text = source(DbtCliInvocation._stream_stdout)
    assert "with self.process.stdout:" in text
    assert "for raw_line in self.process.stdout" in text
    assert "self.process.stdout.closed" in text


def test_the_workers_start_method_and_the_forkserver_state_are_still_where_warm_workers_set_them() -> None:
    """edp_platform/instance/warm_workers.py: Dagster's servicer, looked up by grpc_command when it runs,
    starts workers through its `_mp_ctx`; multiprocessing's forkserver is what ensure_running records and
    main runs."""
    import multiprocessing.forkserver as mp_forkserver

    from dagster._grpc.server import DagsterApiServer

    assert "from dagster._grpc.server import DagsterApiServer" in source(grpc_command.callback)
    assert 'self._mp_ctx = multiprocessing.get_context("spawn")' in source(DagsterApiServer.__init__)
    start = source(DagsterApiServer.StartRun)
    for made in ("self._mp_ctx.Queue()", "self._mp_ctx.Event()", "self._mp_ctx.Process("):
        assert made in start, made
    ensure = source(mp_forkserver.ForkServer.ensure_running)
    for attribute in ("_forkserver_address", "_forkserver_alive_fd", "_forkserver_pid"):
        assert f"self.{attribute} = " in ensure, attribute
    assert "os.waitpid(self._forkserver_pid, os.WNOHANG)" in ensure
    assert list(inspect.signature(mp_forkserver.main).parameters)[:3] == ["listener_fd", "alive_r", "preload"]
    # The address the warm process listens on is made as ensure_running makes its own.
    assert "connection.arbitrary_address('AF_UNIX')" in ensure
    assert "util.is_abstract_socket_namespace(address)" in ensure
    assert mp_forkserver._forkserver.__class__ is mp_forkserver.ForkServer  # type: ignore[attr-defined]


def test_dbt_still_writes_its_log_file_as_its_output_unless_told() -> None:
    """Why the platform's build passes --log-format-file (edp_platform.dbt.assets.build_args)."""
    from dbt.cli import flags

    assert '"LOG_FORMAT", "LOG_FORMAT_FILE"' in source(flags)


def test_the_event_log_storage_still_asks_for_tables_inside_its_index_transaction() -> None:
    """Why the pooled storages keep two connections and remember tables (edp_platform/instance/storage.py)."""
    from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage

    assert "self.has_table(" in source(SqlEventLogStorage._store_asset_event_tags)
    assert "self.index_transaction()" in source(PostgresEventLogStorage.store_event)


def test_the_daemon_liveness_tolerance_is_still_dagsters() -> None:
    from dagster._daemon import cli as daemon_cli

    assert callable(daemon_cli._get_heartbeat_tolerance)
    assert "_get_heartbeat_tolerance()" in source(daemon_cli)


@pytest.mark.parametrize("name", ["_get", "_url"])
def test_docker_py_still_has_the_raw_log_request(name: str) -> None:
    """The dashboard's log follower asks for the log stream with APIClient._get(_url(...), stream=True) and
    reads the frames from response.raw (src/edp_tui/docker/logs/follower.py)."""
    assert callable(getattr(docker.APIClient, name))
    assert "stream" in inspect.signature(docker.APIClient._get).parameters or "kwargs" in str(
        inspect.signature(docker.APIClient._get)
    )
    assert "self.raw = None" in source(requests.Response.__init__)


def test_textual_still_writes_the_bell_through_the_private_driver_the_alerts_use() -> None:
    # ui/alerts.py writes the desktop-notification escapes as App.bell writes BEL: App._driver.write.
    from textual.app import App
    from textual.driver import Driver

    assert "self._driver.write(" in source(App.bell)
    assert callable(Driver.write)


def test_the_daemon_still_logs_idle_ticks_as_the_platform_quiets_them() -> None:
    """edp_platform.daemon_run drops these exact INFO lines from these loggers."""
    from dagster._daemon import sensor
    from dagster._daemon.daemon import get_default_daemon_logger
    from dagster._scheduler import scheduler
    from edp_platform.daemon_run import NOTHING_HAPPENED

    assert set(NOTHING_HAPPENED) == {
        get_default_daemon_logger("SensorDaemon").name,
        get_default_daemon_logger("SchedulerDaemon").name,
    }
    sensors, schedules = source(sensor), source(scheduler)
    assert 'context.logger.info(f"Checking for new runs for sensor: {remote_sensor.name}")' in sensors
    assert 'context.logger.info(f"No run requests returned for {remote_sensor.name}, skipping")' in sensors
    assert 'logger.info(f"No run requests returned for {remote_schedule.name}, skipping")' in schedules
    assert 'f"Sensor {remote_sensor.name} skipped: {sensor_runtime_data.skip_message}"' in sensors


def test_the_official_graphql_client_still_sends_any_document() -> None:
    """bench/backfill_bench.py launches Dagster's own backfill through dagster-graphql's client, which wraps
    no backfill mutation: it sends the document with the client's `_execute(query, variables)`."""
    from dagster_graphql import DagsterGraphQLClient

    assert not hasattr(DagsterGraphQLClient, "launch_partition_backfill")  # else use it instead
    assert list(inspect.signature(DagsterGraphQLClient._execute).parameters) == ["self", "query", "variables"]


def test_both_snapshot_rpcs_still_go_through_the_method_the_candidate_caches() -> None:
    """edp_platform/code_server/snapshots.py replaces
    DagsterApiServer._get_serialized_external_repository_data in the candidate server: both RPCs must still
    call it, and it must still be a function of the request's repository and defer_snapshots alone."""
    from dagster._grpc.server import DagsterApiServer

    method = DagsterApiServer._get_serialized_external_repository_data
    assert list(inspect.signature(method).parameters) == ["self", "request"]
    for rpc in (DagsterApiServer.ExternalRepository, DagsterApiServer.StreamingExternalRepository):
        assert "self._get_serialized_external_repository_data(request)" in source(rpc)
    text = source(method)
    assert "request.serialized_repository_python_origin" in text
    assert "self._get_repo_for_origin(repository_origin)" in text
    assert "defer_snapshots=request.defer_snapshots" in text
