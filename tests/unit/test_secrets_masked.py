"""The run detail never shows a secret-named value of a run's config or tags (edp_tui.text.secrets)."""

from __future__ import annotations

import pytest

from edp_tui.text.secrets import MASK, masked_tag, masked_yaml, secret_name
from edp_tui.ui.widgets.dagster.run_detail import tags_text

CONFIG = """\
ops:
  raw_retail_data:
    config:
      orders: 300
      db_password: hunter2
      "API_TOKEN": 'abc123'
      author: bob
resources:
  warehouse:
    config:
      password:
        env: WAREHOUSE_PASSWORD
      private_key: |
        -----BEGIN PRIVATE KEY-----
        MIIEvQIBADANB
        -----END PRIVATE KEY-----
      user: etl
  api:
    config:
      headers:
        - Authorization: Bearer xyz
        - accept: json
"""


def test_secret_named_values_of_a_run_config_are_masked_and_the_rest_kept() -> None:
    shown = masked_yaml(CONFIG)
    for secret in ("hunter2", "abc123", "WAREHOUSE_PASSWORD", "BEGIN PRIVATE KEY", "MIIEvQIBADANB", "xyz"):
        assert secret not in shown, shown
    assert shown.splitlines() == [
        "ops:",
        "  raw_retail_data:",
        "    config:",
        "      orders: 300",
        f"      db_password: {MASK}",
        f'      "API_TOKEN": {MASK}',
        "      author: bob",
        "resources:",
        "  warehouse:",
        "    config:",
        f"      password: {MASK}",
        f"      private_key: {MASK}",
        "      user: etl",
        "  api:",
        "    config:",
        "      headers:",
        f"        - Authorization: {MASK}",
        "        - accept: json",
    ]


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("password", True),
        ("DB_PASS", True),
        ("slack.token", True),
        ("aws_secret_access_key", True),
        ("apiKey", True),
        ("auth", True),
        ("team", False),
        ("author", False),
        ("dagster/priority", False),
        ("s3_key", False),
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert secret_name(name) is secret


def test_secret_named_tags_are_masked_in_the_run_detail() -> None:
    assert masked_tag("team", "data") == "data"
    text = tags_text((("team", "data"), ("deploy_token", "tok-123"), ("dagster/run_key", "k"))).plain
    assert "tok-123" not in text and f"deploy_token={MASK}" in text and "team=data" in text
