"""Makes tests/e2e a package, so its modules may share a basename with tests/unit ones
(test_container_logs.py exists in both); pytest would refuse to collect the second otherwise."""
