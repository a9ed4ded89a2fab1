"""Guard rails of the layout: what may import what, key binding ids, module sizes, types of the seams."""

from __future__ import annotations

import ast
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "edp_tui"
# The composition root is the only CLI module that may import the UI (and so Textual).
COMPOSITION_ROOT = SRC / "cli" / "dashboard.py"
LONG_MODULE_LINES = 400
LONG_MODULE_MARKER = "Long module:"


def modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def imported(path: Path) -> set[str]:
    """Every module name ``path`` imports, at any depth (function-level imports included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_guard_sees_the_whole_package() -> None:
    found = {p.relative_to(SRC).as_posix() for p in modules()}
    assert {"ui/app.py", "cli/status.py", "docker/services.py", "dagster/client.py"} <= found


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.relative_to(SRC).as_posix())
def test_textual_is_imported_only_by_the_ui_and_the_composition_root(path: Path) -> None:
    if (SRC / "ui") in path.parents or path == COMPOSITION_ROOT:
        return
    textual = sorted(n for n in imported(path) if n == "textual" or n.startswith("textual."))
    assert not textual, f"{path.relative_to(SRC)} imports {textual}: only ui/ and cli/dashboard.py may"


@pytest.mark.parametrize("path", sorted((SRC / "cli").glob("*.py")), ids=lambda p: p.name)
def test_no_cli_command_imports_the_ui(path: Path) -> None:
    if path == COMPOSITION_ROOT:
        return
    ui = sorted(n for n in imported(path) if n == "edp_tui.ui" or n.startswith("edp_tui.ui."))
    assert not ui, f"cli/{path.name} imports {ui}: commands must not depend on the dashboard"


def test_the_cli_starts_without_the_docker_sdk_or_textual() -> None:
    """`edp-tui launch --wait` and the other Dagster commands start in about 0.2 s: the Docker side (the
    docker SDK, requests) and the dashboard are imported where they are used, not when the CLI loads."""
    probe = (
        "import sys, edp_tui.cli; "
        "print(sorted(m for m in ('docker', 'requests', 'textual', 'edp_tui.ui') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", f"loading the CLI imports {out.strip()}"


def test_the_import_check_catches_a_function_level_import(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("def f():\n    from textual.widgets import Static\n    return Static\n")
    assert "textual.widgets" in imported(sneaky)


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.relative_to(SRC).as_posix())
def test_a_long_module_says_why_at_its_top(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    lines = text.count("\n")
    if lines <= LONG_MODULE_LINES:
        return
    docstring = ast.get_docstring(ast.parse(text)) or ""
    assert LONG_MODULE_MARKER in docstring, (
        f"{path.relative_to(SRC)} has {lines} lines: split it, or say why at its top ({LONG_MODULE_MARKER!r})"
    )


def test_every_binding_has_a_unique_area_action_id() -> None:
    from edp_tui.ui.keymap import binding_owners

    owners = list(binding_owners())
    assert len(owners) > 20  # the walk found the dashboard's bindings
    seen: dict[str, str] = {}
    for cls, binding in owners:
        where = f"{cls.__module__}.{cls.__qualname__} ({binding.key} -> {binding.action})"
        assert binding.id, f"{where} has no id: it cannot be rebound from the config file"
        pattern = r"[a-z][a-z_]*\.[a-z][a-z_]*"
        assert re.fullmatch(pattern, binding.id), f"{where}: id {binding.id!r} is not area.action"
        assert binding.id not in seen, f"{where}: id {binding.id!r} also used by {seen[binding.id]}"
        seen[binding.id] = where


def test_widgets_take_the_dagster_protocol_not_the_client_class() -> None:
    from edp_tui.ui.keymap import binding_owners

    del binding_owners  # imports every ui module, so that the walk below sees them all
    import edp_tui.ui.widgets.dagster as panels

    checked = 0
    for info in sorted(Path(panels.__path__[0]).glob("*.py")):
        module = __import__(f"edp_tui.ui.widgets.dagster.{info.stem}", fromlist=["_"])
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__ or "client" not in inspect.signature(cls).parameters:
                continue
            annotation = inspect.signature(cls.__init__).parameters["client"].annotation
            assert annotation == "DagsterApi", f"{cls.__qualname__}(client: {annotation})"
            checked += 1
    assert checked >= 5


def test_the_app_receives_typed_backends() -> None:
    from edp_tui.backends import Backends
    from edp_tui.ui.app import EdpApp

    assert inspect.signature(EdpApp.__init__).parameters["backends"].annotation == "Backends"
    fields = Backends.__annotations__
    assert fields["dagster"] == "DagsterApi" and fields["services"] == "ServiceSource"
    assert fields["logs"] == "LogSource" and "Any" not in " ".join(map(str, fields.values()))


TESTS = SRC.parents[1] / "tests"


def test_mypy_checks_the_fakes_against_the_protocols() -> None:
    """The TUI tests and their fakes (FakeDagster as DagsterApi, FakeServices as ServiceSource, the other
    backends' fakes) are type-checked with the package's real types: a fake that misses a method of its
    protocol, or has it with another signature, fails here instead of passing tests it does not stand for.
    (MYPYPATH: mypy does not follow the editable install's path, and would take every edp_tui type as Any.)"""
    modules = [p.stem for p in sorted((TESTS / "tui").glob("*.py"))]
    support = ["tests.support.docker_fakes", "tests.support.pilot", "tests.support.waiting", "harness"]
    args = [arg for name in [*modules, *support] for arg in ("-m", name)]
    paths = [SRC.parent, TESTS / "tui", TESTS.parent / "bench"]  # the bench harness's in-memory backends too
    env = {**os.environ, "MYPYPATH": os.pathsep.join(map(str, paths))}
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=SRC.parents[1],
        env=env,
    )
    assert "dagster_fake" in modules and "shell_fakes" in modules
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_mypy_is_clean_on_src() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", str(SRC)], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
