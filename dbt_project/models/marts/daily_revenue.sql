-- Incremental: a normal run rebuilds only the most recent days (late orders can still arrive for them);
-- `dbt build --full-refresh` (the full_refresh_job) rebuilds the whole table.
{{
    config(
        materialized='incremental',
        unique_key='order_date',
        incremental_strategy='delete+insert',
    )
}}

select
    order_date,
    count(*) as orders,
    sum(order_total_cents) as revenue_cents
from {{ ref('fct_orders') }}
where is_revenue
{% if is_incremental() %}
    and order_date >= (select coalesce(max(order_date), date '1900-01-01') - 3 from {{ this }})
{% endif %}
group by order_date
