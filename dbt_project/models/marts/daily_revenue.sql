-- Orders and revenue per day. Incremental, one day a partition, like fct_orders: a build for a partition
-- replaces its days (the vars min_date and max_date); a build without them covers every day.
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
{% if var('min_date', none) is not none %}
    and order_date >= cast('{{ var("min_date") }}' as date)
    and order_date < cast('{{ var("max_date") }}' as date)
{% endif %}
group by order_date
