"""The dbt preparation's edges, with real dbt and no database: the working copy skips what is no regular file,
a package that cannot be installed is named, and a profile that cannot connect says why."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

import pytest
from edp_platform.dbt import prepare, workcopy

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "projects"


@pytest.fixture(autouse=True)
def venv_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def copy_of(tmp_path: Path, name: str) -> workcopy.WorkCopy:
    source = tmp_path / "code" / Path(name).name
    shutil.copytree(FIXTURES / name, source)
    return workcopy.WorkCopy(source=source, base=tmp_path / "dbt", log_dir=tmp_path / "logs")


def test_the_working_copy_links_regular_files_only(tmp_path: Path) -> None:
    copy = copy_of(tmp_path, "shop_dbt")
    models = copy.source / "models"
    os.mkfifo(models / "pipe.sql")  # a FIFO would block every reader
    (models / "dangling.sql").symlink_to(tmp_path / "nowhere.sql")
    (models / "device.sql").symlink_to("/dev/zero")
    workcopy.sync(copy)
    linked = {p.name for p in (copy.project_dir / "models").iterdir()}
    assert {"staging", "marts"} <= linked
    assert not {"pipe.sql", "dangling.sql", "device.sql"} & linked


def test_a_package_that_cannot_be_installed_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Offline wherever it runs: dbt's package hub at a closed port.
    monkeypatch.setenv("DBT_PACKAGE_HUB_URL", f"http://127.0.0.1:{closed_port()}/")
    copy = copy_of(tmp_path, "broken/offline_dbt")
    outcome = prepare.prepare(copy)
    assert (outcome.action, outcome.deps) == ("failed", "failed")
    named = "dbt deps could not install the packages of offline_dbt (dbt-labs/dbt_utils 1.3.0)"
    assert named in outcome.message
    assert "Hub and git packages need the network" in outcome.message
    # Nothing was stamped: the next load tries again.
    assert not (copy.base / prepare.DEPS_HASH_FILE).exists()


def test_a_profile_that_cannot_connect_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAGSTER_PG_HOST", "127.0.0.1")
    monkeypatch.setenv("DAGSTER_PG_PORT", str(closed_port()))
    copy = copy_of(tmp_path, "broken/offline_dbt")
    (copy.source / "packages.yml").unlink()
    workcopy.sync(copy)
    problem = prepare.connection_problem(copy)
    assert problem is not None
    assert problem.startswith("dbt cannot connect to the warehouse with the platform's profile")
    assert "refused" in problem.lower() or "could not connect" in problem.lower()


def test_project_files_that_are_fifos_block_nothing(tmp_path: Path) -> None:
    """dbt_project.yml and packages.yml are read by the platform itself (packages-install-path, local
    packages): as FIFOs they are not regular files, and the working copy is made without waiting on them."""
    import threading

    copy = copy_of(tmp_path, "shop_dbt")
    for name in ("packages.yml", "dependencies.yml", "package-lock.yml"):
        (copy.source / name).unlink(missing_ok=True)
        os.mkfifo(copy.source / name)
    (copy.source / "dbt_project.yml").rename(copy.source / "dbt_project.yml.real")
    os.mkfifo(copy.source / "dbt_project.yml")
    done: list[object] = []
    thread = threading.Thread(
        target=lambda: done.append(
            (workcopy.sync(copy), prepare.deps_hash(copy), prepare.package_names(copy.source))
        ),
        daemon=True,
    )
    thread.start()
    thread.join(60)
    assert done, "a FIFO in the project blocked the working copy"


def shop(tmp_path: Path) -> workcopy.WorkCopy:
    """The shop fixture project with the local package it names beside it."""
    shutil.copytree(FIXTURES / "shop_macros", tmp_path / "code" / "shop_macros")
    return copy_of(tmp_path, "shop_dbt")


def test_a_parse_that_never_ends_is_ended_at_its_timeout_and_the_next_one_works(tmp_path: Path) -> None:
    copy = shop(tmp_path)
    first = prepare.prepare_in_child(copy, parse=True, timeout_s=300)
    assert first.action == "parsed", first.message
    endless = copy.source / "models" / "endless.sql"
    endless.write_text("{% for i in modules.itertools.count() %}{% endfor %}\nselect 1 as x\n")
    hung = prepare.prepare_in_child(copy, parse=True, timeout_s=5)
    assert hung.action == "failed"
    assert "did not finish within 5 s" in hung.message and "EDP_DBT_PREPARE_TIMEOUT_S" in hung.message
    endless.unlink()
    again = prepare.prepare_in_child(copy, parse=True, timeout_s=300)
    assert again.action in ("parsed", "skipped"), again.message


def test_the_manifest_is_replaced_whole_while_readers_hold_it(tmp_path: Path) -> None:
    """A run worker that opened the manifest before a re-parse keeps reading the complete old one; the path
    then holds the complete new one (written elsewhere and renamed over it, never rewritten in place)."""
    copy = shop(tmp_path)
    assert prepare.prepare(copy).action == "parsed"
    manifest = copy.target_dir / "manifest.json"
    with open(manifest, "rb") as reader:
        (copy.source / "models" / "added.sql").write_text("select 1 as added\n")
        assert prepare.prepare(copy).action == "parsed"
        old = reader.read()
    import json

    assert "model.shop.added" not in json.loads(old)["nodes"]
    assert "model.shop.added" in json.loads(manifest.read_text())["nodes"]


def test_a_file_name_that_is_not_utf8_is_a_clear_error_and_its_removal_parses(tmp_path: Path) -> None:
    """dbt cannot read such a name (its partial-parse state fails on it, cryptically): the working copy says
    so, naming the file, and the next save without it parses."""
    copy = shop(tmp_path)
    odd = os.path.join(os.fsencode(copy.source / "models"), b"caf\xe9.sql")
    with open(odd, "wb") as f:
        f.write(b"select 1 as x\n")
    outcome = prepare.prepare_in_child(copy, timeout_s=300)
    assert outcome.action == "failed"
    assert "not UTF-8" in outcome.message and "caf\\xe9.sql" in outcome.message, outcome.message
    os.unlink(odd)
    assert prepare.prepare_in_child(copy, timeout_s=300).action == "parsed"


def test_the_prepare_child_stays_warm_between_calls_and_is_replaced_after_a_timeout() -> None:
    """dbt stays initialised in one child between parses (a fresh child per save cost about 1.5 s more per
    dbt reload); a call past its timeout ends that child, and the next call gets a new one."""
    import time

    first = prepare._in_child(os.getpid, (), {}, 60)
    assert prepare._in_child(os.getpid, (), {}, 60) == first != os.getpid()
    with pytest.raises(prepare.ChildTimeout):
        prepare._in_child(time.sleep, (30,), {}, 1)
    with pytest.raises(ProcessLookupError):
        os.kill(first, 0)  # the hung child is gone, not left behind
    assert prepare._in_child(os.getpid, (), {}, 60) not in (first, os.getpid())
