"""user-code's code servers: one per code location, each reloading only after a check, on save or when asked.

`python -m edp_platform.code_server` (user-code's command, __main__.py) starts one supervisor per location:

- supervisor.py: Dagster's code-server proxy (same gRPC API on the location's port), whose reload first checks
  the new code in a fresh server process and only then swaps it in; a failed check keeps the old server
  serving. Beside it, lost_workers.py ends runs whose worker died with a previous code server.
- child.py: that fresh server process, forked from a warm pre-imported interpreter (multiprocessing's
  forkserver), imports the definitions, reports the outcome, then serves as `dagster api grpc` does.
- snapshots.py: the candidate's repository snapshot, computed once for the webserver and the daemon.
- watcher.py: watchfiles over the location's folders; coalesce.py decides when to reload; ignore.py what not.
- status.py / errors.py: the status document (<status dir>/<location>.json) and one log line per reload.
- health.py: the container healthcheck (every location's gRPC health, without importing dagster).

These modules are the platform's, installed in the image: a user's save never changes them.
"""
