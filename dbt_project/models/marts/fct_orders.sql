-- One row per order, enriched with its lines and payments.
with items as (
    select order_id, count(*) as item_count, sum(quantity) as units, sum(line_total_cents) as order_total_cents
    from {{ ref('stg_order_items') }}
    group by order_id
),

paid as (
    select order_id, sum(amount_cents) as paid_cents
    from {{ ref('stg_payments') }}
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
from {{ ref('stg_orders') }} as o
left join items as i on i.order_id = o.order_id
left join paid as p on p.order_id = o.order_id
