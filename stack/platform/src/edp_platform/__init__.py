"""The Enterprise Data Platform's own code: what runs inside the stack for ANY user's code locations.

- settings, workspace: the code locations (stack/.env) and the workspace the webserver and daemon load.
- instance/: the Dagster instance's plugins named by stack/dagster*.yaml (storages, run coordinator, compute
logs).
- code_server/: user-code's code servers, one per location, whose reloads check before they replace, reload on
  save, the gRPC healthcheck and lost-run-worker detection.
- dbt/: the dbt integration (any dbt project: the platform's warehouse profile, a working copy with packages,
  `dbt deps`/`dbt parse` when inputs change, assets and a build job with run config).
- daemon_liveness: the daemon container's healthcheck.

Installed in the image from stack/platform (never bind-mounted): a user's save can never break the platform.
"""
