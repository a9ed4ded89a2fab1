-- One row per order, enriched with its lines and payments. Incremental, one day a partition: a build for a
-- partition gets its time window as the vars min_date and max_date (max excluded) and replaces the rows of
-- those days; a build without them (or a --full-refresh) covers every day in the raw data.
{{
    config(
        materialized='incremental',
        unique_key='order_date',
        incremental_strategy='delete+insert',
    )
}}

with orders as (
    select * from {{ ref('stg_orders') }}
    {% if var('min_date', none) is not none %}
    where order_date >= cast('{{ var("min_date") }}' as date)
        and order_date < cast('{{ var("max_date") }}' as date)
    {% endif %}
),

items as (
    select order_id, count(*) as item_count, sum(quantity) as units, sum(line_total_cents) as order_total_cents
    from {{ ref('stg_order_items') }}
    where order_id in (select order_id from orders)
    group by order_id
),

paid as (
    select order_id, sum(amount_cents) as paid_cents
    from {{ ref('stg_payments') }}
    where order_id in (select order_id from orders)
    group by order_id
)

select
    o.order_id,
    o.customer_id,
    o.order_date,
    o.status,
    o.is_revenue,
    coalesce(i.item_count, 0) as item_count,
    coalesce(i.units, 0) as units,
    coalesce(i.order_total_cents, 0) as order_total_cents,
    coalesce(p.paid_cents, 0) as paid_cents
from orders as o
left join items as i on i.order_id = o.order_id
left join paid as p on p.order_id = o.order_id
