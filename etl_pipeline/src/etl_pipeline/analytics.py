"""Python asset downstream of the dbt marts: customer segments from lifetime value."""

import dagster as dg
from psycopg2 import sql
from psycopg2.extras import execute_values

from etl_pipeline.warehouse import connect, own_table

CLV_KEY = dg.AssetKey(["marts", "customer_lifetime_value"])
SEGMENT_SCHEMA = "analytics"
SEGMENT_TABLE = "customer_segments"
VIP_FROM_CENTS = 1_000_000


def segment_for(lifetime_value_cents: int) -> str:
    if lifetime_value_cents >= VIP_FROM_CENTS:
        return "vip"
    return "regular" if lifetime_value_cents > 0 else "inactive"


@dg.asset(
    key=[SEGMENT_SCHEMA, SEGMENT_TABLE],
    deps=[CLV_KEY],
    group_name="analytics",
    kinds={"python", "postgres"},
    description="vip / regular / inactive customers by lifetime value.",
)
def customer_segments(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select customer_id, lifetime_value_cents from marts.customer_lifetime_value")
        rows = [(customer_id, segment_for(int(ltv))) for customer_id, ltv in cur.fetchall()]
        ddl = "customer_id integer primary key, segment text not null"
        table = own_table(cur, SEGMENT_SCHEMA, SEGMENT_TABLE, ddl)
        cur.execute(sql.SQL("truncate {}").format(table))
        execute_values(
            cur, sql.SQL("insert into {} values %s").format(table).as_string(cur), rows, page_size=5000
        )
    counts = {name: sum(1 for _, s in rows if s == name) for name in ("vip", "regular", "inactive")}
    context.log.info(f"segments: {counts}")
    return dg.MaterializeResult(
        metadata={"dagster/row_count": len(rows), **{f"segment_{k}": v for k, v in counts.items()}}
    )
