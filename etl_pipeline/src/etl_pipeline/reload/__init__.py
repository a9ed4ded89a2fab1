"""Reload on save for the code location, checked before it replaces what is serving.

The `user-code` service runs `python -m etl_pipeline.reload.supervisor` (see docs/hot-reload.md):

- supervisor.py: Dagster's code-server proxy (same gRPC API on port 4000), whose reload first checks the new
  code in a fresh server process and only then swaps it in; a failed check keeps the old server serving.
- child.py: that fresh server process, forked from a warm pre-imported interpreter (multiprocessing's
  forkserver), imports the definitions, reports the outcome, then serves as `dagster api grpc` does.
- watcher.py: watchfiles over the bind-mounted code and dbt project; coalesce.py decides when to reload.
- dbt_inputs.py / dbt_parse.py: `dbt parse` (in-process dbtRunner) only when the dbt project's inputs changed.
- status.py / errors.py: the status document (status.json) and one log line per reload.

The modules here are the supervisor's own: edits to them take effect when the container restarts.
"""
