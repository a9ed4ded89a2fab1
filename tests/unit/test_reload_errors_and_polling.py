"""Where a failed reload points (etl_pipeline/reload/errors.py) and when the watcher polls (watcher.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from edp_platform.code_server.errors import dbt_error, display_path, python_error
from edp_platform.code_server.watcher import mount_fstype, use_polling

ROOTS = {
    "/opt/dagster/app/etl_pipeline/src": "etl_pipeline/src",
    "/opt/dagster/app/dbt_project": "dbt_project",
}


def test_display_path_is_repository_relative_inside_a_watched_folder() -> None:
    assert (
        display_path("/opt/dagster/app/etl_pipeline/src/etl_pipeline/definitions.py", ROOTS)
        == "etl_pipeline/src/etl_pipeline/definitions.py"
    )
    assert display_path("/usr/lib/python3.11/os.py", ROOTS) == "/usr/lib/python3.11/os.py"


def test_syntax_error_points_at_its_own_file_and_line(tmp_path: Path) -> None:
    source = tmp_path / "pkg" / "definitions.py"
    source.parent.mkdir()
    source.write_text("import os\n\ndef broken(:\n    pass\n")
    try:
        compile(source.read_text(), str(source), "exec")
    except SyntaxError as exc:
        error = python_error(exc, {str(tmp_path): "etl_pipeline/src"})
    assert error["kind"] == "python"
    assert (error["file"], error["line"]) == ("etl_pipeline/src/pkg/definitions.py", 3)
    assert error["text"].endswith("SyntaxError: invalid syntax")
    assert "def broken(:" in error["text"]


def test_runtime_error_points_at_the_innermost_frame_in_watched_code(tmp_path: Path) -> None:
    module = tmp_path / "assets.py"
    module.write_text("def load():\n    return {}['missing']\n")
    namespace: dict = {}
    exec(compile(module.read_text(), str(module), "exec"), namespace)
    try:
        try:
            namespace["load"]()
        except KeyError as inner:
            raise RuntimeError("loading definitions failed") from inner
    except RuntimeError as exc:
        error = python_error(exc, {str(tmp_path): "etl_pipeline/src"})
    assert (error["file"], error["line"]) == ("etl_pipeline/src/assets.py", 2)
    assert error["text"] == "KeyError: 'missing'"
    assert "loading definitions failed" in error["detail"]


def test_dbt_error_keeps_dbts_message_and_finds_the_file() -> None:
    message = (
        "Compilation Error\n  Model 'model.retail.bad' (models/marts/bad.sql) depends on a node named "
        "'nope' which was not found"
    )
    error = dbt_error(message, "dbt_project")
    assert error == {
        "kind": "dbt",
        "file": "dbt_project/models/marts/bad.sql",
        "line": None,
        "text": message,
        "detail": message,
    }
    jinja = dbt_error(
        "Compilation Error in model bad (models/marts/bad.sql)\n  unexpected '}'\n    line 3\n", "dbt_project"
    )
    assert (jinja["file"], jinja["line"]) == ("dbt_project/models/marts/bad.sql", 3)


MOUNTINFO = """\
22 1 0:21 / / rw,relatime - overlay overlay rw
30 22 0:30 / /opt/dagster/app/etl_pipeline/src rw,relatime - ext4 /dev/sda1 rw
31 22 0:31 / /opt/dagster/app/dbt_project rw,relatime - fuse.grpcfuse grpcfuse rw
32 31 0:32 / /opt/dagster/app/dbt_project/target rw,relatime - ext4 /dev/sda1 rw
"""


def test_mount_fstype_takes_the_innermost_mount() -> None:
    assert mount_fstype("/opt/dagster/app/dbt_project/models/a.sql", MOUNTINFO) == "fuse.grpcfuse"
    assert mount_fstype("/opt/dagster/app/dbt_project/target/m.json", MOUNTINFO) == "ext4"
    assert mount_fstype("/opt/dagster/app/etl_pipeline/src", MOUNTINFO) == "ext4"
    assert mount_fstype("/etc/hosts", MOUNTINFO) == "overlay"


@pytest.mark.parametrize(
    ("setting", "roots", "expected"),
    [
        ("auto", ["/opt/dagster/app/etl_pipeline/src"], False),
        ("auto", ["/opt/dagster/app/etl_pipeline/src", "/opt/dagster/app/dbt_project"], True),
        ("1", ["/opt/dagster/app/etl_pipeline/src"], True),
        ("0", ["/opt/dagster/app/dbt_project"], False),
    ],
)
def test_polling_setting_and_auto_detection(setting: str, roots: list[str], expected: bool) -> None:
    polling, why = use_polling(setting, roots, MOUNTINFO)
    assert polling is expected
    assert why


@pytest.mark.parametrize("polling", [False, True])
def test_a_file_name_that_is_not_utf8_reloads_and_the_watch_goes_on(tmp_path: Path, polling: bool) -> None:
    """watchfiles cannot report a name that is not UTF-8 (it raises): the folder counts as changed, and the
    next save of an ordinary file is seen too."""
    import os
    import threading

    from edp_platform.code_server.coalesce import Coalescer
    from edp_platform.code_server.watcher import Watcher

    from tests.support.waiting import wait_for

    root = tmp_path / "models"
    root.mkdir()
    batches: list[list[str]] = []
    states: list[dict[str, object]] = []
    seen = threading.Event()

    def on_batch(files: list[str], _first: float) -> None:
        batches.append(files)
        seen.set()

    watcher = Watcher(
        {str(root): "dbt_project/models"},
        on_batch,
        polling=polling,
        coalescer=Coalescer(quiet_s=0.05, max_wait_s=0.5),
        on_state=lambda **fields: states.append(fields),
    )
    watcher.start()
    try:
        wait_for("watching", lambda: any(s.get("state") == "watching" for s in states), 30)
        with open(os.path.join(os.fsencode(root), b"caf\xe9.sql"), "wb") as f:
            f.write(b"select 1\n")
        wait_for("a reload for the odd name", lambda: bool(batches), 30)
        assert batches[0] == ["dbt_project/models"]
        batches.clear()
        wait_for("watching again", lambda: states[-1].get("state") == "watching", 30)
        (root / "plain.sql").write_text("select 2\n")
        wait_for("the next save seen", lambda: any("dbt_project/models/plain.sql" in b for b in batches), 30)
    finally:
        watcher.stop()
