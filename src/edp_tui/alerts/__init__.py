"""Alerts: what the dashboard polls (runs, asset checks, daemon health, reload statuses, service health)
turned into events, each delivered once, rate-limited, on or off per kind. No Textual here: the dashboard
(`edp_tui.ui.alerts`) and `edp-tui watch` (`edp_tui.cli.watch`) share it."""
