"""Small helpers shared by every package: one backoff, one set of time and duration formatters."""
