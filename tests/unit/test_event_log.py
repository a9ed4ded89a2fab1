"""The run event log's store (bounded, numbered), its filter, the failed dbt nodes of a step failure, the
failure metadata read from GraphQL, and the timelines' spans."""

from __future__ import annotations

from edp_tui.dagster.event_log import MAX_TEXT_CHARS, EventFilter, EventLog, kind_of
from edp_tui.dagster.metadata import failed_nodes
from edp_tui.dagster.models import RunDetail, RunEvent, RunSummary, StepStat
from edp_tui.dagster.timeline import runs_timeline, step_timeline


def event(
    message: str, kind: str | None = "STEP_START", level: str = "DEBUG", step: str | None = "a"
) -> RunEvent:
    return RunEvent("MessageEvent", kind, message, 100.0, level, step)


def test_the_log_keeps_the_newest_events_and_says_which_were_dropped() -> None:
    log = EventLog(cap=3)
    added, dropped = log.add([event("e0"), event("e1")])
    assert [n for n, _ in added] == [0, 1] and dropped == []
    added, dropped = log.add([event(f"e{i}") for i in range(2, 7)])
    # e2..e3 came and went in the same call: neither added nor dropped for the caller.
    assert [n for n, _ in added] == [4, 5, 6] and dropped == [0, 1]
    assert [e.message for _, e in log] == ["e4", "e5", "e6"]
    assert (len(log), log.total, log.dropped) == (3, 7, 4)
    assert log.get(3) is None and log.get(5) is not None and log.get(7) is None


def test_a_huge_message_is_cut() -> None:
    log = EventLog()
    log.add([RunEvent("LogMessageEvent", None, "x" * 100_000, 1.0, "INFO", error="y" * 100_000)])
    ((_, kept),) = list(log)
    assert len(kept.message) == MAX_TEXT_CHARS and kept.message.endswith("…")
    assert kept.error is not None and len(kept.error) == MAX_TEXT_CHARS


def test_the_filter_by_type_step_level_and_search() -> None:
    log_line = RunEvent("LogMessageEvent", None, "Loaded 3 FILES", 1.0, "INFO", "load")
    failure = RunEvent(
        "ExecutionStepFailureEvent", "STEP_FAILURE", "failed", 2.0, "ERROR", "dbt", error="KeyError: 'amount'"
    )
    start = event("started", step="dbt")
    events = [log_line, failure, start]

    def shown(wanted: EventFilter) -> list[RunEvent]:
        return [e for e in events if wanted.matches(e)]

    assert kind_of(log_line) == "LOG" and kind_of(failure) == "STEP_FAILURE"
    assert shown(EventFilter()) == events and not EventFilter().active
    assert shown(EventFilter(kind="LOG")) == [log_line]
    assert shown(EventFilter(step="dbt")) == [failure, start]
    assert shown(EventFilter(min_level="INFO")) == [log_line, failure]
    assert shown(EventFilter(min_level="ERROR")) == [failure]
    assert shown(EventFilter(search="files")) == [log_line]  # case-insensitive
    assert shown(EventFilter(search="AMOUNT")) == [failure]  # the error text is searched
    assert shown(EventFilter(search="[b]")) == []  # a substring, never a pattern
    assert shown(EventFilter(step="dbt", min_level="ERROR", search="key")) == [failure]


def test_a_failure_event_reads_the_failed_dbt_models_from_its_metadata() -> None:
    raw = {
        "__typename": "ExecutionStepFailureEvent",
        "eventType": "STEP_FAILURE",
        "message": "failed",
        "timestamp": "1767355200000",
        "level": "ERROR",
        "stepKey": "dbt_build",
        "error": {"message": "dbt build failed", "className": "Failure", "cause": None},
        "failureMetadata": {
            "metadataEntries": [
                {"__typename": "TextMetadataEntry", "label": "dbt/error/model.p.a", "text": "boom [b]"},
                {
                    "__typename": "MarkdownMetadataEntry",
                    "label": "dbt/compiled_sql/model.p.a",
                    "mdStr": "```sql\nselect 1\n```",
                },
                {"__typename": "PathMetadataEntry", "label": "dbt/file/model.p.a", "path": "models/a.sql"},
                {"__typename": "TextMetadataEntry", "label": "dbt/error/model.p.b", "text": "other"},
                {
                    "__typename": "IntMetadataEntry",
                    "label": "dbt/more_failed_nodes",
                    "intValue": None,
                    "intRepr": "3",
                },
            ]
        },
    }
    parsed = RunEvent.from_graphql(raw)
    nodes = failed_nodes(parsed.metadata)
    assert [(n.unique_id, n.error, n.compiled_sql, n.file) for n in nodes] == [
        ("model.p.a", "boom [b]", "select 1", "models/a.sql"),
        ("model.p.b", "other", None, None),
    ]
    assert dict(parsed.metadata)["dbt/more_failed_nodes"] == 3
    assert RunEvent.from_graphql({"__typename": "LogMessageEvent", "message": "x"}).metadata == ()


def test_the_step_timeline_orders_steps_by_start_and_spans_the_run() -> None:
    run = RunSummary("r", "job", "STARTED", 0.0, 10.0, None)
    detail = RunDetail(
        run,
        (
            StepStat("late", "IN_PROGRESS", 30.0, None),
            StepStat("pending", None, None, None),
            StepStat("first", "SUCCESS", 12.0, 20.0),
        ),
    )
    timeline = step_timeline(detail, now=50.0)
    assert [s.label for s in timeline.spans] == ["first", "late", "pending"]
    assert (timeline.begin, timeline.end) == (10.0, 50.0)  # from the run's start to now (a step still going)
    assert [s.length(50.0) for s in timeline.spans] == [8.0, 20.0, None]


def test_the_runs_timeline_puts_runs_oldest_first_and_a_live_run_up_to_now() -> None:
    runs = [
        RunSummary("new", "b", "STARTED", 40.0, 45.0, None),
        RunSummary("queued", "c", "QUEUED", 60.0, None, None),
        RunSummary("old", "a", "SUCCESS", 0.0, 5.0, 15.0),
    ]
    timeline = runs_timeline(runs, now=70.0)
    assert [s.key for s in timeline.spans] == ["old", "new", "queued"]
    assert (timeline.begin, timeline.end) == (5.0, 70.0)
    assert timeline.spans[2].start is None
