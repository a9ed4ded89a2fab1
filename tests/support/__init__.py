"""Shared test helpers (real processes, real engines)."""
