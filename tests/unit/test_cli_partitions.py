"""The partition, backfill and queue commands without a stack: argument checks, read-only refusals, bad input
refused with nothing launched, and output from answers captured from a real webserver."""

from __future__ import annotations

import json

import pytest

from tests.unit.test_cli_commands import invoke, isolated_config, serve  # noqa: F401 (fixture)
from tests.unit.test_partitions import data

NEW_COMMANDS = ("partitions", "backfill", "backfills", "queue", "pool")
HEALTH = {
    "PartitionHealth": "partition_health_failed_day",
    "RequiredAssets": "required_assets_orders",
    "PartitionKeys": "partition_keys_orders",
    "LaunchBackfill": "launch_backfill_success",
}


@pytest.mark.parametrize("command", NEW_COMMANDS)
def test_every_new_command_has_help(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0 and f"Usage: main {command}" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ("backfill", "retail_raw/orders", "--missing"),
        ("backfills", "abc", "--cancel"),
        ("backfills", "abc", "--reexecute"),
        ("pool", "warehouse", "2"),
        ("pool", "warehouse", "--reset"),
    ],
)
def test_read_only_refuses_before_contacting_anything(args: tuple[str, ...]) -> None:
    result = invoke("--read-only", "--webserver-url", "http://127.0.0.1:9", *args)
    assert result.exit_code == 2 and "read-only mode" in result.output and "refused" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("backfill", "retail_raw/orders"), "--from KEY --to KEY, --missing or --failed"),
        (("backfill", "--missing"), "name the assets to backfill, or --job JOB"),
        (("backfill", "a/b", "--job", "j", "--missing"), "not both"),
        (("backfill", "a/b", "--missing", "--failed"), "exclude each other"),
        (("backfill", "a//b", "--missing"), "expected parts separated by '/'"),
        (("backfills", "--cancel"), "give its id"),
        (("pool", "warehouse", "2", "--reset"), "one of LIMIT, --reset or --free-ended"),
    ],
)
def test_usage_errors_exit_2_before_contacting_anything(args: tuple[str, ...], message: str) -> None:
    result = invoke("--webserver-url", "http://127.0.0.1:9", *args)
    assert result.exit_code == 2 and message in result.output


def test_partitions_json_and_text(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    serve(monkeypatch, HEALTH, seen)
    doc = json.loads(invoke("partitions", "--json").stdout)
    assert doc["schema"] == "edp-tui.partitions/1"
    orders = next(a for a in doc["assets"] if a["asset"] == "retail_raw/orders")
    assert (orders["total"], orders["materialized"], orders["failed"], orders["missing"]) == (
        1072,
        12,
        1,
        1059,
    )
    assert {"start": "2024-01-09", "end": "2024-01-09", "status": "FAILED"} in orders["ranges"]
    text = invoke("partitions", "retail_raw/orders", "--width", "80").stdout
    lines = text.splitlines()
    assert lines[0] == "retail_raw/orders: Daily, starting 2024-01-01 UTC. End offsetted by 1 partition."
    bar = lines[2].strip()
    assert len(bar) == 78 and bar[0] == "x"  # the failed day is in the first cell
    assert "failed        2024-01-09..2024-01-09" in text
    assert seen == ["PartitionHealth", "PartitionHealth"]  # never the key list


def test_partitions_of_an_unpartitioned_or_unknown_asset_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    serve(monkeypatch, {"PartitionHealth": "partition_health_unpartitioned"}, [])
    result = invoke("partitions", "staging/stg_orders")
    assert result.exit_code == 2 and "staging/stg_orders is not partitioned" in result.stderr
    result = invoke("partitions", "no/such")
    assert result.exit_code == 2 and "no asset no/such in the workspace" in result.stderr


def test_a_backfill_of_the_failed_partitions_launches_one_range(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    serve(monkeypatch, HEALTH, seen)
    result = invoke("backfill", "retail_raw/orders", "--failed")
    assert result.exit_code == 0, result.stderr
    launched = data("launch_backfill_success")["launchPartitionBackfill"]["backfillId"]
    assert result.stdout.strip() == launched
    assert "1 partition (2024-01-09) of retail_raw/orders, retail_raw/order_items, retail_raw/payments" in (
        result.stderr
    )
    assert seen[-1] == "LaunchBackfill"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--from", "2023-12-01", "--to", "2024-01-05"),
            "'2023-12-01' is not a partition of retail_raw/orders",
        ),
        (("--from", "2024-01-05", "--to", "2024-01-01"), "runs backwards"),
        (
            ("--failed", "--from", "2024-03-01", "--to", "2024-03-31"),
            "nothing to backfill: no failed partitions",
        ),
    ],
)
def test_bad_backfills_launch_nothing(
    monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], message: str
) -> None:
    seen: list[str] = []
    serve(monkeypatch, HEALTH, seen)
    result = invoke("backfill", "retail_raw/orders", *args)
    assert result.exit_code == 2 and message in result.stderr and "nothing launched" in result.stderr
    assert "LaunchBackfill" not in seen


def test_a_backfill_of_an_unpartitioned_asset_launches_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    answers = {
        **HEALTH,
        "PartitionHealth": "partition_health_unpartitioned",
        "RequiredAssets": "required_assets_none",
    }
    serve(monkeypatch, answers, seen)
    result = invoke("backfill", "staging/stg_orders", "--from", "2024-01-01", "--to", "2024-01-02")
    assert result.exit_code == 2 and "staging/stg_orders is not partitioned" in result.stderr
    assert "LaunchBackfill" not in seen


def test_backfills_list_and_one_with_its_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    serve(
        monkeypatch,
        {"Backfills": "backfills_list", "Backfill": "backfill_failed", "RunsLean": "runs_lean"},
        [],
    )
    listed = invoke("backfills").stdout
    assert "seawzwlm  COMPLETED_FAILED   12/12 (3 failed)  2024-01-07..2024-01-10" in listed
    doc = json.loads(invoke("backfills", "seawzwlm", "--json").stdout)
    assert doc["schema"] == "edp-tui.backfill/1" and doc["status"] == "COMPLETED_FAILED"
    assert doc["progress"] == {"targeted": 12, "materialized": 9, "failed": 3, "in_progress": 0}
    assert doc["runs"]  # the runs found by the backfill's tag
    text = invoke("backfills", "seawzwlm").stdout
    assert "retail_raw/orders       4         3     1       0" in text


def test_backfill_actions_check_its_state(monkeypatch: pytest.MonkeyPatch) -> None:
    serve(monkeypatch, {"Backfill": "backfill_failed"}, [])
    result = invoke("backfills", "seawzwlm", "--cancel")
    assert result.exit_code == 2 and "is COMPLETED_FAILED: nothing to cancel" in result.stderr
    serve(monkeypatch, {"Backfill": "backfill_in_progress"}, [])
    result = invoke("backfills", "yrtezrnb", "--reexecute")
    assert result.exit_code == 2 and "is still REQUESTED" in result.stderr
    serve(monkeypatch, {"Backfill": "backfill_not_found"}, [])
    result = invoke("backfills", "nosuchid")
    assert result.exit_code == 2 and "no backfill with id 'nosuchid'" in result.stderr


def test_queue_says_what_holds_each_run(monkeypatch: pytest.MonkeyPatch) -> None:
    serve(monkeypatch, {"RunQueue": "run_queue_pool_full"}, [])
    text = invoke("queue").stdout
    assert "runs in progress: 1 (max_concurrent_runs: 3); queued: 7" in text
    assert "warehouse  1      1       0" in text
    assert "__ASSET_JOB [2024-01-18]" in text
    doc = json.loads(invoke("queue", "--json").stdout)
    assert doc["schema"] == "edp-tui.queue/1" and len(doc["queued_runs"]) == 7
    assert doc["queued_runs"][0]["partition"] == "2024-01-18"
    assert any("pool warehouse: limit 1" in why for why in doc["queued_runs"][0]["why"])


def test_an_unknown_pool_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    serve(monkeypatch, {"PoolNames": "pool_names", "RunQueue": "run_queue_idle"}, seen)
    result = invoke("pool", "nope", "3")
    assert result.exit_code == 2
    assert "unknown pool 'nope'; known pools: warehouse; nothing changed" in result.stderr
    assert "SetPoolLimit" not in seen
    result = invoke("pool", "warehouse", "5000")
    assert result.exit_code == 2 and "between 0 and 1000" in result.stderr
    result = invoke("pool", "warehouse", "--reset")
    assert result.exit_code == 2 and "has no limit to remove" in result.stderr
