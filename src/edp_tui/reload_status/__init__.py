"""The code server's reload-on-save status (``/opt/dagster/reload/<location>.json`` in user-code), typed.

The user-code supervisor (etl_pipeline/reload, docs/hot-reload.md) checks every change before it replaces the
running definitions and publishes each reload there; `models` parses it, `reader` fetches it through the
Docker API (the dashboard and the CLI use the same reader). No Textual here.
"""
