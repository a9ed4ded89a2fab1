-- Units and revenue per product category, over revenue-bearing orders.
select
    p.category,
    count(distinct i.order_id) as orders,
    sum(i.quantity) as units,
    sum(i.line_total_cents) as revenue_cents
from {{ ref('stg_order_items') }} as i
join {{ ref('stg_orders') }} as o on o.order_id = i.order_id
join {{ ref('stg_products') }} as p on p.product_id = i.product_id
where o.is_revenue
group by p.category
