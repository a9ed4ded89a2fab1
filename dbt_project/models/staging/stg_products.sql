select
    product_id,
    product_name,
    category,
    unit_price_cents
from {{ source('raw', 'products') }}
