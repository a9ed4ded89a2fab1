-- Every order that was not cancelled is paid in full (payments may be split across methods).
select order_id, order_total_cents, paid_cents
from {{ ref('fct_orders') }}
where status <> 'cancelled' and paid_cents <> order_total_cents
