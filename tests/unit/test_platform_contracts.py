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
    """Why a narrowed build runs without the step's context (edp_platform.dbt.assets.narrowed_build): a
    --select passed to cli() is put beside dagster-dbt's own selection, which dbt unions."""
    from dagster_dbt.asset_utils import get_updated_cli_invocation_params_for_context

    text = source(get_updated_cli_invocation_params_for_context)
    assert 'selection_args = ["--select", " ".join(runtime_selects), *selection_args]' in text


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
