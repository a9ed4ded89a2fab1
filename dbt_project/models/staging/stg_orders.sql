select
    order_id,
    customer_id,
    order_date,
    status,
    -- revenue is recognised for orders that were not cancelled or returned
    status in ('placed', 'shipped', 'completed') as is_revenue
from {{ source('raw', 'orders') }}
