"""The dashboard's log file: the `edp_tui` logger (unexpected errors with tracebacks) goes to `log_file`."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from edp_tui.cli.dashboard import setup_logging


def test_unexpected_errors_reach_the_log_file_with_their_traceback(tmp_path: Path) -> None:
    path = tmp_path / "state" / "edp-tui" / "edp-tui.log"
    handler = setup_logging(path)
    assert handler is not None
    try:
        try:
            raise AttributeError("'NoneType' object has no attribute 'get'")
        except AttributeError as exc:
            logging.getLogger("edp_tui.ui.widgets.polling").error("poll failed: %s", exc, exc_info=exc)
    finally:
        logging.getLogger("edp_tui").removeHandler(handler)
        handler.close()
    text = path.read_text()
    assert "ERROR edp_tui.ui.widgets.polling" in text and "poll failed" in text
    assert "Traceback (most recent call last)" in text


def test_an_unwritable_log_file_is_said_and_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert setup_logging(blocker / "edp-tui.log") is None  # its parent is a file
    assert "cannot write the log file" in capsys.readouterr().err
