"""The routines the CLI and the dashboard share: one backoff, one set of formatters, one tag parser, one
run-config parser, one compute-log tail, one reload outcome."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edp_tui.dagster.client import LOG_CHUNK_BYTES
from edp_tui.dagster.models import LocationInfo, LogChunk, LogKey
from edp_tui.dagster.reload import ReloadOutcome
from edp_tui.dagster.run_config import RunConfigSyntaxError, parse_run_config
from edp_tui.dagster.tags import parse_tag, parse_tag_list, parse_tags
from edp_tui.dagster.tail import BULK_CHUNK_BYTES, ComputeLogTail
from edp_tui.errors import EdpError
from edp_tui.util import fmt
from edp_tui.util.backoff import Backoff


def test_backoff_doubles_to_its_cap_and_resets() -> None:
    backoff = Backoff(0.5, 4.0)
    assert backoff.delay == 0.5
    assert [backoff.failed() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    backoff.reset()
    assert backoff.failed() == 0.5


def test_backoff_budget() -> None:
    backoff = Backoff(0.1, 1.0, limit=2)
    backoff.failed(), backoff.failed()
    assert not backoff.exhausted
    backoff.failed()
    assert backoff.exhausted


def test_backoff_survives_a_night_of_failures() -> None:
    backoff = Backoff(0.5, 10.0)
    for _ in range(10_000):
        delay = backoff.failed()
    assert delay == 10.0


def test_backoff_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        Backoff(5.0, 1.0)


@pytest.mark.parametrize(
    ("seconds", "precise", "coarse"),
    [
        (None, "-", "-"),
        (0.42, "0.4s", "0s"),
        (59.9, "59.9s", "59s"),
        (125, "2m05s", "2m"),
        (3 * 3600 + 5 * 60 + 7, "3h05m", "3h05m"),
        (50 * 3600, "2d02h", "2d02h"),
    ],
)
def test_one_duration_scale_for_every_panel_and_command(
    seconds: float | None, precise: str, coarse: str
) -> None:
    assert fmt.duration(seconds) == precise
    assert fmt.duration(seconds, coarse=True) == coarse


def test_timestamps_are_utc() -> None:
    assert fmt.timestamp(0) == "01-01 00:00:00"
    assert fmt.timestamp(0, with_year=True) == "1970-01-01 00:00:00"
    assert fmt.clock(3661) == "01:01:01" and fmt.timestamp(None) == "-" and fmt.clock(None) == "--:--:--"


def test_tag_values_may_hold_commas_and_equals_signs() -> None:
    assert parse_tag_list("team=data, note=a,b,c, url=x=y") == {"team": "data", "note": "a,b,c", "url": "x=y"}
    assert parse_tag_list(" a=1, b = x=y ,") == {"a": "1", "b": "x=y"}
    assert parse_tag_list("") == {}
    assert parse_tags(["a=b=c", " k =v", "team=x,y"]) == {"a": "b=c", "k": "v", "team": "x,y"}


@pytest.mark.parametrize("bad", ["novalue", "=x", " = "])
def test_a_tag_without_a_key_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not key=value"):
        parse_tag(bad)
    with pytest.raises(ValueError):
        parse_tag_list(f"{bad}, ok=1")  # (after a pair, ", word" is part of that pair's value)


@given(
    st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9_./-]{0,8}", fullmatch=True),
        # (a trailing comma of the whole list is a separator: no value ends with one)
        st.text(alphabet="abc ,/:[]", max_size=8).map(lambda v: v.strip().rstrip(", ")),
        max_size=4,
    )
)
def test_the_dialog_list_round_trips_values_with_commas(tags: dict[str, str]) -> None:
    # Values hold no "=": a comma inside a value is never followed by "key=", so each pair comes back whole.
    text = ", ".join(f"{key}={value}" for key, value in tags.items())
    assert parse_tag_list(text) == tags


def test_run_config_parser_errors_are_domain_errors() -> None:
    assert parse_run_config("") == {} and parse_run_config("ops: {a: 1}") == {"ops": {"a": 1}}
    for bad, words in (("ops: [unclosed", "not valid YAML"), ("- a\n- b\n", "must be a mapping")):
        with pytest.raises(RunConfigSyntaxError, match=words) as info:
            parse_run_config(bad)
        assert isinstance(info.value, EdpError) and info.value.title == "Run config"


class FakeLogs:
    def __init__(self, chunks: list[LogChunk]) -> None:
        self.chunks = chunks

    async def captured_logs(self, key: LogKey, cursor: str | None = None, limit: int = 0) -> LogChunk:
        return self.chunks.pop(0) if self.chunks else LogChunk("", "", cursor or "0:0")


async def test_the_tail_hands_out_complete_lines_per_stream() -> None:
    tail = ComputeLogTail(LogKey("run", "key"))
    fake = FakeLogs([LogChunk("a\nhal", "e1\n", "5:3"), LogChunk("f\n", "par", "7:6")])
    first = await tail.read(fake)  # type: ignore[arg-type]
    assert first.fresh and first.lines == (("stdout", "a"), ("stderr", "e1"))
    rest = await tail.read_all(fake)  # type: ignore[arg-type]
    assert rest.fresh and rest.lines == (("stdout", "half"),)
    assert tail.cursor == "7:6" and tail.flush() == [("stderr", "par")]
    assert not (await tail.read(fake)).fresh  # type: ignore[arg-type]


class FileLogs:
    """Serves two byte strings by the ``"<out>:<err>"`` cursor, ``limit`` bytes per stream per call."""

    def __init__(self, out: str, err: str) -> None:
        self.out, self.err = out, err
        self.limits: list[int] = []

    async def captured_logs(self, key: LogKey, cursor: str | None = None, limit: int = 0) -> LogChunk:
        self.limits.append(limit)
        o, e = (int(x) for x in (cursor or "0:0").split(":"))
        out, err = self.out[o : o + limit], self.err[e : e + limit]
        return LogChunk(out, err, f"{o + len(out)}:{e + len(err)}")


async def test_a_large_finished_log_is_read_in_large_chunks() -> None:
    line = "x" * 99 + "\n"
    logs = FileLogs(line * 80_000, line * 1000)  # 8 MB of stdout
    tail = ComputeLogTail(LogKey("run", "key"))
    got = await tail.read_all(logs)  # type: ignore[arg-type]
    assert len(got.lines) == 81_000 and tail.cursor == f"{len(logs.out)}:{len(logs.err)}"
    # Two 4 MiB reads carry the 8 MB, a third says nothing is left (64 KiB reads would take 123 calls).
    assert logs.limits == [BULK_CHUNK_BYTES] * 3
    live = ComputeLogTail(LogKey("run", "key"))
    await live.read(logs)  # type: ignore[arg-type]
    assert logs.limits[-1] == LOG_CHUNK_BYTES


def test_a_reload_outcome_reads_the_same_everywhere() -> None:
    loaded = LocationInfo.from_graphql(
        {"name": "loc", "loadStatus": "LOADED", "locationOrLoadError": {"__typename": "RepositoryLocation"}}
    )
    assert ReloadOutcome("loc", loaded, 1.25, True).summary(300).startswith("loc: loaded in 1.2s")
    assert ReloadOutcome("loc", None, 1.0, True).state == "gone"


@pytest.mark.parametrize(
    ("seconds", "due_in"),
    [(0.0, 1.0), (12.25, 0.75), (59.5, 0.5), (60.0, 60.0), (300.0, 60.0), (3599.0, 1.0), (86_400.0, 3600.0)],
)
def test_a_coarse_uptime_clock_wakes_when_its_text_changes(seconds: float, due_in: float) -> None:
    assert fmt.coarse_change_in(seconds) == pytest.approx(due_in)
    before, after = fmt.duration(seconds, coarse=True), fmt.duration(seconds + due_in, coarse=True)
    assert before != after and fmt.duration(seconds + due_in - 0.01, coarse=True) == before
