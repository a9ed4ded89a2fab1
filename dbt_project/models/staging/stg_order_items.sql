select
    order_id,
    line_number,
    product_id,
    quantity,
    unit_price_cents,
    quantity * unit_price_cents as line_total_cents
from {{ source('raw', 'order_items') }}
