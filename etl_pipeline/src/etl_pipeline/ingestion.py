"""Ingestion: generate the retail data set and load it into the warehouse's `raw` schema."""

import dagster as dg

from etl_pipeline.generator import TABLE_COLUMNS, GeneratorParams, generate
from etl_pipeline.warehouse import RAW_SCHEMA, load_raw

RAW_ASSET_KEYS: dict[str, dg.AssetKey] = {table: dg.AssetKey([RAW_SCHEMA, table]) for table in TABLE_COLUMNS}


class IngestionConfig(dg.Config):
    """Size of the generated data set; the same values always produce the same rows."""

    customers: int = 500
    products: int = 50
    orders: int = 5_000
    seed: int = 42

    def params(self) -> GeneratorParams:
        return GeneratorParams(
            customers=self.customers, products=self.products, orders=self.orders, seed=self.seed
        )


@dg.multi_asset(
    name="raw_retail_data",
    specs=[
        dg.AssetSpec(key, group_name="raw", kinds={"python", "postgres"}, description=f"{RAW_SCHEMA}.{table}")
        for table, key in RAW_ASSET_KEYS.items()
    ],
)
def raw_retail_data(context: dg.AssetExecutionContext, config: IngestionConfig):
    try:
        params = config.params()
    except ValueError as exc:  # e.g. orders=0: fail the step with the reason, load nothing
        raise dg.Failure(description=str(exc)) from exc
    data = generate(params)
    counts = load_raw(data)
    context.log.info(f"loaded raw tables with {params}: {counts}")
    for table, key in RAW_ASSET_KEYS.items():
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={"dagster/row_count": counts[table], "seed": params.seed},
        )
