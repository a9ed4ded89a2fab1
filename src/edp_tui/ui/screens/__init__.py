"""Screens pushed over the dashboard: confirm, help, launch dialog, service detail."""
