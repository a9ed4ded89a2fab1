-- Every customer, also those without orders (lifetime value 0).
select
    c.customer_id,
    c.full_name,
    c.country,
    count(o.order_id) filter (where o.is_revenue) as revenue_orders,
    coalesce(sum(o.order_total_cents) filter (where o.is_revenue), 0) as lifetime_value_cents,
    min(o.order_date) as first_order_date,
    max(o.order_date) as last_order_date
from {{ ref('stg_customers') }} as c
left join {{ ref('fct_orders') }} as o on o.customer_id = c.customer_id
group by c.customer_id, c.full_name, c.country
